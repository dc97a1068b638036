using PprnetNewsletter.Hosting;
using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Tests.Subscribers;

public class EmailAddressRulesTests
{
    [Theory]
    [InlineData("ann@example.org", "ann@example.org")]
    [InlineData("  Ann.Lee@Example.ORG \t", "Ann.Lee@example.org")]
    [InlineData("first.last+digest@sub.mail.example.co.uk", "first.last+digest@sub.mail.example.co.uk")]
    [InlineData("o'brien@example.ie", "o'brien@example.ie")]
    [InlineData("x_y-z@my-clinic.ca", "x_y-z@my-clinic.ca")]
    [InlineData("anne@bücher.example", "anne@xn--bcher-kva.example")]
    public void Good_addresses_are_accepted_and_normalised(string input, string expected)
    {
        Assert.True(EmailAddressRules.TryNormalize(input, out var email, out var problem), problem);
        Assert.Equal(expected, email);
    }

    public static TheoryData<string?, string> BadAddresses() => new()
    {
        { null, "empty" },
        { "   ", "empty" },
        { "\"Evil\" <a@b.org>", "without a name" },
        { "Evil <a@b.org>", "without a name" },
        { "<a@b.org>", "brackets" },
        { "a@b.org, c@d.org", "second address" },
        { "a@b.org,c@d.org", "second address" },
        { "a@b.org;c@d.org", "second address" },
        { "a@b.org\r\nBcc: x@y.org", "line break" },
        { "a@b.org\u0000", "control character" },
        { "group: a@b.org;", "second address" },
        { "a(comment)@b.org", "brackets" },
        { "\"quoted local\"@b.org", "quotes" },
        { "a@localhost", "no dot" },
        { "a@[127.0.0.1]", "brackets" },
        { "a@127.0.0.1", "IP address" },
        { "a@b..org", "not a valid" },
        { "a@-b.org", "not a valid" },
        { "a@b.org.", "not a valid" },
        { "a@b_c.org", "not a valid" },
        { "ab.org", "not a valid" },
        { "a@", "not a valid" },
        { "@b.org", "not a valid" },
        { "a@b@c.org", "not a valid" },
        { "a b@c.org", "space" },
        { ".a@b.org", "not a valid" },
        { "a..b@c.org", "not a valid" },
        { "jöhn@example.org", "ASCII" },
        { new string('a', 65) + "@example.org", "64" },
        { new string('a', 64) + "@" + string.Join('.', Enumerable.Repeat(new string('b', 62), 3)) + ".org", "254" },
    };

    [Theory]
    [MemberData(nameof(BadAddresses))]
    public void Bad_addresses_are_refused_with_a_reason(string? input, string reasonContains)
    {
        Assert.False(EmailAddressRules.TryNormalize(input, out var email, out var problem));
        Assert.Null(email);
        Assert.Contains(reasonContains, problem, StringComparison.OrdinalIgnoreCase);
    }

    [Fact]
    public void The_length_limit_is_254_characters_exactly()
    {
        var domain = string.Join('.', Enumerable.Repeat(new string('d', 60), 3)) + ".example.org";   // 195 characters
        var at254 = new string('a', 254 - domain.Length - 1) + "@" + domain;
        var at255 = "a" + at254;
        Assert.Equal(254, at254.Length);
        Assert.True(EmailAddressRules.TryNormalize(at254, out _, out var problem), problem);
        Assert.False(EmailAddressRules.TryNormalize(at255, out _, out problem));
        Assert.Contains("254", problem);
    }

    [Fact]
    public void Normalize_throws_a_usage_error_that_shows_the_input_safely()
    {
        var error = Assert.Throws<UsageException>(() => EmailAddressRules.Normalize("a@b.org\r\nBcc: x@y.org"));
        Assert.Contains("a@b.org\\u000d\\u000aBcc", error.Message);
        Assert.DoesNotContain("\n", error.Message);
    }

    [Theory]
    [InlineData(null, "")]
    [InlineData("  Dr. Ann Lee  ", "Dr. Ann Lee")]
    [InlineData("Zoë O'Brien-Nguyễn", "Zoë O'Brien-Nguyễn")]
    [InlineData("<script>alert(1)</script>", "<script>alert(1)</script>")]
    public void Names_are_trimmed_and_otherwise_kept(string? input, string expected)
    {
        Assert.True(SubscriberNameRules.TryNormalize(input, out var name, out var problem), problem);
        Assert.Equal(expected, name);
    }

    [Theory]
    [InlineData("Ann\r\nBcc: x@y.org", "line")]
    [InlineData("Ann\nLee", "line")]
    [InlineData("Ann\u2028Lee", "line")]
    [InlineData("Ann\u0007", "control")]
    public void Names_on_more_than_one_line_or_with_control_characters_are_refused(string input, string reasonContains)
    {
        Assert.False(SubscriberNameRules.TryNormalize(input, out _, out var problem));
        Assert.Contains(reasonContains, problem);
    }

    [Fact]
    public void Names_longer_than_100_characters_are_refused()
    {
        Assert.True(SubscriberNameRules.TryNormalize(new string('n', 100), out _, out _));
        Assert.False(SubscriberNameRules.TryNormalize(new string('n', 101), out _, out var problem));
        Assert.Contains("100", problem);
    }
}
