using System.Text;
using System.Text.RegularExpressions;
using MimeKit;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Bounces;

/// <summary>
/// The mail a bounce mailbox receives, written as the servers that send it write it: DSNs in the shapes of Postfix,
/// Exchange and Gmail, a transient DSN, an ARF spam complaint, a mailto unsubscribe, a vacation reply and an
/// unrelated message. Each is about a digest the test server really received.
/// </summary>
static partial class Reports
{
    public const string BounceBase = "bounces@pprnet.example.org";

    static string Headers(MimeMessage digest)
    {
        using var stream = new MemoryStream();
        digest.Headers.WriteTo(stream);
        return Encoding.UTF8.GetString(stream.ToArray()).TrimEnd();
    }

    static string Raw(MimeMessage digest)
    {
        using var stream = new MemoryStream();
        digest.WriteTo(stream);
        return Encoding.UTF8.GetString(stream.ToArray());
    }

    static string Recipient(ReceivedMessage digest) => digest.To[0];

    /// <summary>Postfix: delivered to the VERP address, the returned message in full.</summary>
    public static byte[] PostfixDsn(ReceivedMessage digest, string id) => Encoding.UTF8.GetBytes($"""
        Return-Path: <>
        Delivered-To: {digest.From}
        Date: Fri, 3 Mar 2023 09:00:05 -0500 (EST)
        From: MAILER-DAEMON@mx.relay.example (Mail Delivery System)
        Subject: Undelivered Mail Returned to Sender
        To: {digest.From}
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status;
        	boundary="4F1A2B3C.1677852005/mx.relay.example"
        Message-Id: <{id}@mx.relay.example>

        This is a MIME-encapsulated message.

        --4F1A2B3C.1677852005/mx.relay.example
        Content-Description: Notification
        Content-Type: text/plain; charset=us-ascii

        This is the mail system at host mx.relay.example.

        I'm sorry to have to inform you that your message could not
        be delivered to one or more recipients.

        <{Recipient(digest)}>: host mx.example.org[192.0.2.10] said: 550 5.1.1
            <{Recipient(digest)}>: Recipient address rejected: User unknown in virtual
            mailbox table (in reply to RCPT TO command)

        --4F1A2B3C.1677852005/mx.relay.example
        Content-Description: Delivery report
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.relay.example
        X-Postfix-Queue-ID: 4F1A2B3C
        X-Postfix-Sender: rfc822; {digest.From}
        Arrival-Date: Fri,  3 Mar 2023 09:00:04 -0500 (EST)

        Final-Recipient: rfc822; {Recipient(digest)}
        Original-Recipient: rfc822;{Recipient(digest)}
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; mx.example.org
        Diagnostic-Code: smtp; 550 5.1.1 <{Recipient(digest)}>: Recipient address rejected:
            User unknown in virtual mailbox table

        --4F1A2B3C.1677852005/mx.relay.example
        Content-Description: Undelivered Message
        Content-Type: message/rfc822

        {Raw(digest.Message)}
        --4F1A2B3C.1677852005/mx.relay.example--
        """.ReplaceLineEndings("\r\n"));

    /// <summary>Exchange: sent to the plain bounce address (no VERP), HTML and text notice, the returned headers only.</summary>
    public static byte[] ExchangeDsn(ReceivedMessage digest, string id) => Encoding.UTF8.GetBytes($"""
        From: postmaster@contoso.example
        To: {BounceBase}
        Date: Fri, 3 Mar 2023 14:00:06 +0000
        Content-Type: multipart/report; report-type=delivery-status;
        	boundary="_000_DSNEX01contosoexample_"
        MIME-Version: 1.0
        Message-ID: <{id}@EX01.contoso.example>
        Subject: Undeliverable: {digest.Message.Subject}
        Auto-Submitted: auto-replied
        X-MS-Exchange-Message-Is-Ndr:

        --_000_DSNEX01contosoexample_
        Content-Type: multipart/alternative; differences=Content-Type;
        	boundary="_002_DSNEX01contosoexample_"

        --_002_DSNEX01contosoexample_
        Content-Type: text/plain; charset="us-ascii"

        Your message to {Recipient(digest)} couldn't be delivered.
        {Recipient(digest)} wasn't found at contoso.example.

        --_002_DSNEX01contosoexample_
        Content-Type: text/html; charset="us-ascii"

        <html><body><p>Your message couldn't be delivered.</p></body></html>

        --_002_DSNEX01contosoexample_--

        --_000_DSNEX01contosoexample_
        Content-Type: message/delivery-status

        Reporting-MTA: dns;EX01.contoso.example
        Received-From-MTA: dns;relay.pprnet.example.org
        Arrival-Date: Fri, 3 Mar 2023 14:00:05 +0000

        Final-Recipient: rfc822;{Recipient(digest)}
        Action: failed
        Status: 5.1.10
        Diagnostic-Code: smtp;550 5.1.10 RESOLVER.ADR.RecipientNotFound; Recipient not found by SMTP address lookup

        --_000_DSNEX01contosoexample_
        Content-Type: text/rfc822-headers

        {Headers(digest.Message)}

        --_000_DSNEX01contosoexample_--
        """.ReplaceLineEndings("\r\n"));

    /// <summary>
    /// Gmail: the address that failed is a forwarding target, not the subscriber's; only the returned Message-ID says
    /// whose digest it was. Sent to the plain bounce address.
    /// </summary>
    public static byte[] GmailDsn(ReceivedMessage digest, string id) => Encoding.UTF8.GetBytes($"""
        Delivered-To: {BounceBase}
        Return-Path: <>
        From: Mail Delivery Subsystem <mailer-daemon@googlemail.com>
        To: {BounceBase}
        Auto-Submitted: auto-replied
        Subject: Delivery Status Notification (Failure)
        Message-ID: <{id}@mx.google.com>
        Date: Fri, 03 Mar 2023 06:00:07 -0800 (PST)
        X-Failed-Recipients: forwarded.elsewhere@gmail.example
        MIME-Version: 1.0
        Content-Type: multipart/report; boundary="000000000000a1b2c3"; report-type=delivery-status

        --000000000000a1b2c3
        Content-Type: multipart/related; boundary="000000000000d4e5f6"

        --000000000000d4e5f6
        Content-Type: multipart/alternative; boundary="000000000000g7h8i9"

        --000000000000g7h8i9
        Content-Type: text/plain; charset="UTF-8"

        ** Address not found **

        Your message wasn't delivered to forwarded.elsewhere@gmail.example because the address couldn't be found.

        --000000000000g7h8i9
        Content-Type: text/html; charset="UTF-8"

        <html><body><h2>Address not found</h2></body></html>

        --000000000000g7h8i9--
        --000000000000d4e5f6--
        --000000000000a1b2c3
        Content-Type: message/delivery-status

        Reporting-MTA: dns; googlemail.com
        Received-From-MTA: dns; relay.pprnet.example.org
        Arrival-Date: Fri, 03 Mar 2023 06:00:06 -0800 (PST)

        Final-Recipient: rfc822; forwarded.elsewhere@gmail.example
        Action: failed
        Status: 5.1.1
        Remote-MTA: dns; gmail-smtp-in.l.google.com. (142.250.0.27, the server for the domain gmail.example.)
        Diagnostic-Code: smtp; 550-5.1.1 The email account that you tried to reach does not exist.
        Last-Attempt-Date: Fri, 03 Mar 2023 06:00:07 -0800 (PST)

        --000000000000a1b2c3
        Content-Type: message/rfc822

        {Raw(digest.Message)}
        --000000000000a1b2c3--
        """.ReplaceLineEndings("\r\n"));

    /// <summary>A transient failure (mailbox full), to the VERP address.</summary>
    public static byte[] TransientDsn(ReceivedMessage digest, string id) => Encoding.UTF8.GetBytes($"""
        Return-Path: <>
        Delivered-To: {digest.From}
        From: MAILER-DAEMON@mx.relay.example (Mail Delivery System)
        To: {digest.From}
        Subject: Delayed Mail (still being retried)
        Auto-Submitted: auto-replied
        MIME-Version: 1.0
        Content-Type: multipart/report; report-type=delivery-status; boundary="delay-{id}"
        Message-Id: <{id}@mx.relay.example>

        --delay-{id}
        Content-Type: text/plain; charset=us-ascii

        Your message could not be delivered for 4 hours; it will be retried.

        --delay-{id}
        Content-Type: message/delivery-status

        Reporting-MTA: dns; mx.relay.example

        Final-Recipient: rfc822; {Recipient(digest)}
        Action: delayed
        Status: 4.2.2
        Diagnostic-Code: smtp; 452 4.2.2 Mailbox full

        --delay-{id}
        Content-Type: text/rfc822-headers

        {Headers(digest.Message)}

        --delay-{id}--
        """.ReplaceLineEndings("\r\n"));

    /// <summary>An RFC 5965 spam complaint, the recipient redacted: only the original envelope sender (VERP) names them.</summary>
    public static byte[] ArfComplaint(ReceivedMessage digest, string id)
    {
        var redacted = Regex.Replace(Headers(digest.Message), @"(?m)^To: .*$", "To: redacted@mail.example");
        return Encoding.UTF8.GetBytes($"""
            From: <staff@fbl.mail.example>
            Date: Sat, 4 Mar 2023 10:00:00 +0000
            Subject: FW: {digest.Message.Subject}
            To: <{BounceBase}>
            Message-ID: <{id}@fbl.mail.example>
            MIME-Version: 1.0
            Content-Type: multipart/report; report-type=feedback-report; boundary="part1_{id}"

            --part1_{id}
            Content-Type: text/plain; charset="US-ASCII"
            Content-Transfer-Encoding: 7bit

            This is an email abuse report for an email message received from IP 192.0.2.1.

            --part1_{id}
            Content-Type: message/feedback-report

            Feedback-Type: abuse
            User-Agent: ExampleFBL/0.1
            Version: 1
            Original-Mail-From: <{digest.From}>
            Arrival-Date: Fri, 3 Mar 2023 09:00:04 -0500
            Reporting-MTA: dns; mail.example
            Source-IP: 192.0.2.1

            --part1_{id}
            Content-Type: text/rfc822-headers

            {redacted}

            --part1_{id}--
            """.ReplaceLineEndings("\r\n"));
    }

    /// <summary>What a mail program sends for the List-Unsubscribe mailto of <paramref name="digest"/>.</summary>
    public static byte[] MailtoUnsubscribe(ReceivedMessage digest, string id)
    {
        var mailto = MailtoOf(digest.Message);
        var uri = new Uri(mailto);
        var subject = Uri.UnescapeDataString(uri.Query.TrimStart('?').Split('=', 2)[1]);
        return Encoding.UTF8.GetBytes($"""
            From: Reader <{Recipient(digest)}>
            To: {uri.UserInfo}@{uri.Host}
            Subject: {subject}
            Date: Sat, 4 Mar 2023 11:00:00 +0000
            Message-ID: <{id}@mail.example>
            MIME-Version: 1.0
            Content-Type: text/plain; charset=utf-8

            This message was sent to unsubscribe.
            """.ReplaceLineEndings("\r\n"));
    }

    /// <summary>The mailto of the List-Unsubscribe header.</summary>
    public static string MailtoOf(MimeMessage digest) =>
        Regex.Match(digest.Headers["List-Unsubscribe"] ?? "", "<(mailto:[^>]+)>").Groups[1].Value;

    /// <summary>A vacation reply (RFC 3834) sent, as it should be, to the envelope sender: the VERP address.</summary>
    public static byte[] VacationReply(ReceivedMessage digest, string id) => Encoding.UTF8.GetBytes($"""
        From: Reader <{Recipient(digest)}>
        To: {digest.From}
        Subject: Out of Office: {digest.Message.Subject}
        Date: Fri, 3 Mar 2023 09:01:00 -0500
        Message-ID: <{id}@mail.example>
        Auto-Submitted: auto-replied
        X-Autoreply: yes
        In-Reply-To: <{digest.Message.MessageId}>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        I am away until March 20 with no access to email.
        """.ReplaceLineEndings("\r\n"));

    /// <summary>Ordinary mail that happens to reach the bounce mailbox.</summary>
    public static byte[] Unrelated(string id) => Encoding.UTF8.GetBytes($"""
        From: A Colleague <colleague@example.net>
        To: {BounceBase}
        Subject: Lunch on Friday?
        Date: Fri, 3 Mar 2023 12:00:00 -0500
        Message-ID: <{id}@example.net>
        MIME-Version: 1.0
        Content-Type: text/plain; charset=utf-8

        Are you free for lunch on Friday?
        """.ReplaceLineEndings("\r\n"));
}
