using PprnetNewsletter.Subscribers;

namespace PprnetNewsletter.Admin;

/// <summary>
/// The problems of one admin API request, field by field, collected before anything is done, so a 400 names every
/// invalid field at once (an RFC 9457 validation problem: <c>errors</c> by field, and every message in <c>detail</c>).
/// </summary>
sealed class FieldProblems
{
    readonly Dictionary<string, string[]> _errors = new(StringComparer.Ordinal);

    public bool Any => _errors.Count > 0;

    public void Add(string field, string message) =>
        _errors[field] = _errors.TryGetValue(field, out var earlier) ? [.. earlier, message] : [message];

    /// <summary>The normalised address, or "" after recording why it is not one.</summary>
    public string Email(string field, string? input)
    {
        if (EmailAddressRules.TryNormalize(input, out var email, out var problem))
        {
            return email;
        }
        Add(field, $"'{EmailAddressRules.Printable(input)}' is not a usable email address: {problem}.");
        return "";
    }

    /// <summary>The normalised name (null stays null), or null after recording why it is not one.</summary>
    public string? Name(string field, string? input)
    {
        if (input is null)
        {
            return null;
        }
        if (SubscriberNameRules.TryNormalize(input, out var name, out var problem))
        {
            return name;
        }
        Add(field, $"Name: {problem}.");
        return null;
    }

    /// <summary>The topics <paramref name="input"/> names, or null after recording why they are not topics.</summary>
    public async Task<TopicSelection?> TopicsAsync(string field, string? input, TopicChoices topics)
    {
        var (selection, problem) = await topics.TryParseAsync(input);
        if (selection is null)
        {
            Add(field, $"Topics: {problem}. Run 'pprnet topics' for the list.");
        }
        return selection;
    }

    /// <summary>The 400 that lists every problem; null when there is none.</summary>
    public IResult? Result() => Any
        ? TypedResults.ValidationProblem(_errors, detail: string.Join(" ", _errors.Values.SelectMany(m => m)),
            title: "The request is not valid")
        : null;
}
