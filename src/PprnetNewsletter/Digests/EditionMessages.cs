using System.Collections.Concurrent;
using System.Numerics;
using System.Security.Cryptography;
using System.Text;
using Microsoft.Extensions.Options;
using MimeKit;
using PprnetNewsletter.Bounces;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Digests;

/// <summary>Prepares an edition for sending: the digests feature's side of the delivery seam.</summary>
public sealed class EditionMessageFactory(
    IContentStore content,
    TopicCatalog topics,
    EmailRenderer renderer,
    MessageAssembly assembly,
    LinkTokens tokens,
    VerpAddresses verp,
    IOptions<DigestOptions> options) : IEditionMessageFactory
{
    async Task<IEditionMessages?> IEditionMessageFactory.PrepareAsync(string month, CancellationToken ct) =>
        await PrepareAsync(month, ct);

    /// <summary>The edition of <paramref name="month"/> ready to compose, or null if there is no such edition.</summary>
    public async Task<EditionMessages?> PrepareAsync(string month, CancellationToken ct = default)
    {
        var edition = await content.GetEditionAsync(month, ct);
        return edition is null ? null : await PrepareAsync(edition);
    }

    /// <summary>Prepares <paramref name="edition"/>; a template that cannot render it fails here, before any email.</summary>
    public async Task<EditionMessages> PrepareAsync(Edition edition)
    {
        if (edition.Summaries.Count > DigestSelection.MaxSummariesPerEdition)
        {
            throw new InvalidOperationException(
                $"Edition {edition.Month} has {edition.Summaries.Count} summaries; a digest holds at most {DigestSelection.MaxSummariesPerEdition}.");
        }
        var topicNames = (await topics.AllAsync()).ToDictionary(t => t.Id, t => t.Name);
        var prepared = new EditionMessages(edition, topicNames, renderer, assembly, tokens, verp, options.Value.SendWhenNoMatch);
        prepared.Warm();
        return prepared;
    }
}

/// <summary>
/// One edition, prepared: each combination of matching summaries is rendered and CSS-inlined once (on first
/// use, then cached), and every reader's message is filled in from it. Thread-safe: the sending engine calls
/// <see cref="Compose"/> from many threads.
/// </summary>
public sealed class EditionMessages : IEditionMessages
{
    readonly Edition _edition;
    readonly IReadOnlyDictionary<long, string> _topicNames;
    readonly EmailRenderer _renderer;
    readonly MessageAssembly _assembly;
    readonly LinkTokens _tokens;
    readonly VerpAddresses _verp;
    readonly bool _sendWhenNoMatch;
    readonly string _feedbackId;
    // The edition's topics, in order of first appearance: bit i of a reader's topic mask is _topicIds[i].
    readonly long[] _topicIds;
    readonly ConcurrentDictionary<(ulong Mask, ulong Topics, bool HasName), Lazy<PersonalisedEmail>> _variants = new();

    internal EditionMessages(Edition edition, IReadOnlyDictionary<long, string> topicNames, EmailRenderer renderer,
        MessageAssembly assembly, LinkTokens tokens, VerpAddresses verp, bool sendWhenNoMatch)
    {
        _edition = edition;
        _topicNames = topicNames;
        _renderer = renderer;
        _assembly = assembly;
        _tokens = tokens;
        _verp = verp;
        _sendWhenNoMatch = sendWhenNoMatch;
        _feedbackId = $"{edition.Month}:digest:pprnet";
        _topicIds = [.. edition.Summaries.SelectMany(s => s.Topics).Select(t => t.Id).Distinct()];
    }

    public long EditionId => _edition.Id;

    public string Month => _edition.Month;

    public int SummaryCount => _edition.Summaries.Count;

    public bool SkipsWithoutMatchingTopics => !_sendWhenNoMatch;

    public Edition Edition => _edition;

    public MimeMessage? Compose(Recipient recipient, int resendCount)
    {
        ArgumentOutOfRangeException.ThrowIfNegative(resendCount);
        var mask = DigestSelection.MatchMask(_edition, recipient.AllTopics, recipient.TopicIds);
        if (mask == 0 && !_sendWhenNoMatch)
        {
            return null;
        }

        var unsubscribeToken = _tokens.Create(recipient.SubscriberId, LinkPurpose.Unsubscribe);
        var links = _renderer.Links;
        var values = new ReaderValues(recipient.Name, recipient.Email,
            ReaderValues.DescribeTopics(recipient.AllTopics, recipient.TopicIds, _topicNames))
        {
            [Slot.Unsubscribe] = links.Unsubscribe(unsubscribeToken),
            [Slot.Preferences] = links.Preferences(_tokens.Create(recipient.SubscriberId, LinkPurpose.Preferences)),
        };
        var variant = Variant(mask, TopicMask(recipient.AllTopics, recipient.TopicIds), values.Name.Length > 0);
        var message = _assembly.Build(variant.Headers, values.Name, recipient.Email, MessageId(recipient, resendCount), variant.Fill(values),
            _verp.For(recipient.SubscriberId, _edition.Id));
        MessageAssembly.AddListUnsubscribe(message, values[Slot.Unsubscribe], links.UnsubscribeMailto(unsubscribeToken));
        _assembly.Sign(message);
        return message;
    }

    /// <summary>
    /// <c>{month}.{subscriber}[.r{resend}].{hash}@{sender domain}</c>: the same for the same edition, subscriber and
    /// resend (a retried send is recognisably the same message), different for each resend.
    /// </summary>
    string MessageId(Recipient recipient, int resendCount)
    {
        var resend = resendCount > 0 ? $".r{resendCount}" : "";
        Span<byte> hash = stackalloc byte[32];
        SHA256.HashData(Encoding.UTF8.GetBytes($"{_edition.Id}|{_edition.Month}|{recipient.SubscriberId}|{resendCount}|{recipient.Email.ToLowerInvariant()}"), hash);
        return $"{_edition.Month}.{recipient.SubscriberId}{resend}.{Convert.ToHexStringLower(hash[..5])}@{_assembly.SenderDomain}";
    }

    /// <summary>
    /// Renders the fullest variants (and the note, when configured) and composes one message, so a template that
    /// cannot render this edition fails here, before the first email.
    /// </summary>
    internal void Warm()
    {
        var all = DigestSelection.MatchMask(_edition, allTopics: true, []);
        var allTopics = TopicMask(allTopics: true, []);
        Variant(all, allTopics, hasName: true);
        Variant(all, allTopics, hasName: false);
        if (_sendWhenNoMatch)
        {
            Variant(0, 0, hasName: true);
        }
        // One whole message too, for a reader of every topic, written out as SMTP would: a message that cannot be
        // assembled, signed or written fails here as well, before the list is enqueued. It also compiles that code
        // before the send starts rather than on its first messages (~80 ms sooner to the first, docs/benchmarks.md).
        using var sample = Compose(new Recipient(1, "reader@example.org", "Reader", AllTopics: true, []), 0);
        var wire = FormatOptions.Default.Clone();
        wire.NewLineFormat = NewLineFormat.Dos;
        sample?.WriteTo(wire, Stream.Null);
    }

    /// <summary>
    /// Which of the edition's topics the reader chose. Part of a variant's key because each full summary offers a
    /// "less of this" link for each of its topics the reader chose; readers of the same summaries through other
    /// topics get another variant.
    /// </summary>
    internal ulong TopicMask(bool allTopics, IReadOnlyList<long> topicIds)
    {
        var mask = 0UL;
        for (var i = 0; i < _topicIds.Length; i++)
        {
            if (allTopics || topicIds.Contains(_topicIds[i]))
            {
                mask |= 1UL << i;
            }
        }
        return mask;
    }

    PersonalisedEmail Variant(ulong mask, ulong topics, bool hasName) =>
        _variants.GetOrAdd((mask, topics, hasName), static (key, self) =>
            new Lazy<PersonalisedEmail>(() => self.Render(key.Mask, key.Topics, key.HasName)), this).Value;

    PersonalisedEmail Render(ulong mask, ulong topics, bool hasName) =>
        // Compose is synchronous (the engine's seam); RazorLight completes synchronously for templates that do
        // not await, and this runs once per variant, never per email.
        _renderer.RenderAsync(EmailTemplates.Digest, Model(mask, topics, hasName), _feedbackId).GetAwaiter().GetResult();

    /// <summary>The template model of a variant: the reader's values are placeholders.</summary>
    internal DigestModel Model(ulong mask, ulong topics, bool hasName)
    {
        var digest = DigestSelection.Split(_edition, mask);
        var links = _renderer.Links;
        var count = BitOperations.PopCount(mask);
        return new DigestModel
        {
            Subject = count == 0
                ? $"PPRNet research digest, {_edition.MonthName}: nothing on your topics this month"
                : $"PPRNet research digest, {_edition.MonthName}: {count} {(count == 1 ? "summary" : "summaries")} on your topics",
            Reader = EmailRenderer.PlaceholderReader(hasName),
            Sender = _renderer.Sender,
            Links = new EmailLinks
            {
                Home = links.Home,
                ViewInBrowser = links.Archive(_edition.Month),
                Unsubscribe = Placeholders.Of(Slot.Unsubscribe),
                Preferences = Placeholders.Of(Slot.Preferences),
            },
            Month = _edition.Month,
            MonthName = _edition.MonthName,
            Summaries = [.. digest.Matches.Select(s => new DigestEntry(s, links.ArchiveEntry(_edition.Month, s.Slug))
            {
                LessOf = [.. s.Topics.Where(t => Chosen(t.Id, topics)).Select(t => new LessOfLink(t.Name, LessOfUrl(t.Slug)))],
            })],
            AlsoThisMonth = [.. digest.Others.Select(s => new DigestEntry(s, links.ArchiveEntry(_edition.Month, s.Slug)))],
        };
    }

    bool Chosen(long topicId, ulong topics) => Array.IndexOf(_topicIds, topicId) is var i and >= 0 && (topics & (1UL << i)) != 0;

    /// <summary>
    /// The reader's own preference link (a placeholder here, filled in per reader) with the page that drops one
    /// topic: the signed token authorises the change, the topic is a plain parameter the page checks.
    /// </summary>
    static string LessOfUrl(string slug) => $"{Placeholders.Of(Slot.Preferences)}/less?topic={Uri.EscapeDataString(slug)}";
}
