using System.CommandLine;
using System.CommandLine.Parsing;
using PprnetNewsletter.Content;

namespace PprnetNewsletter.Hosting;

/// <summary>
/// What the operator reads when a command line does not parse: a misspelled verb gets a "did you mean", a missing
/// argument is named with its description and the verb's usage, and anything else is the parser's own message.
/// </summary>
public static class UsageErrors
{
    public static IReadOnlyList<string> Describe(RootCommand root, IReadOnlyList<string> args, ParseResult parsed)
    {
        if (UnknownVerb(root, args) is { } unknown)
        {
            return [unknown];
        }

        var command = parsed.CommandResult;
        var missing = command.Command.Arguments
            .Where(a => a.Arity.MinimumNumberOfValues > 0 && (parsed.GetResult(a) is not ArgumentResult given || given.Tokens.Count == 0))
            .ToList();
        if (missing.Count == 0)
        {
            return parsed.Errors.Select(e => e.Message).ToList();
        }
        // The parser's own line for a missing argument names the verb, not the argument; say which one and what it is.
        // The verb's other errors (its validators) are left out: the missing argument is the first thing to fix.
        var lines = missing.Select(a => $"'{PathOf(command)}' needs <{a.Name}>: {a.Description}").ToList();
        lines.AddRange(parsed.Errors
            .Where(e => e.SymbolResult is not null && e.SymbolResult != command
                && !(e.SymbolResult is ArgumentResult argument && missing.Contains(argument.Argument)))
            .Select(e => e.Message));
        lines.Add($"Usage: {UsageOf(command)}");
        return lines;
    }

    /// <summary>
    /// The first word that is neither a verb of the command it follows nor that command's argument, with the
    /// nearest verb when it looks like a typo ("digset" → "digest"); or a group of verbs given without one.
    /// </summary>
    static string? UnknownVerb(RootCommand root, IReadOnlyList<string> args)
    {
        Command command = root;
        var path = "pprnet";
        foreach (var arg in args)
        {
            if (arg.StartsWith('-'))
            {
                return null;
            }
            var verb = command.Subcommands.FirstOrDefault(c => c.Name == arg || c.Aliases.Contains(arg));
            if (verb is null)
            {
                if (command.Subcommands.Count == 0 || command.Arguments.Count > 0)
                {
                    return null;
                }
                var verbs = command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name).ToList();
                var typo = Closest.Typo(arg, verbs);
                return $"'{path}' has no verb '{arg}'." + (typo is null ? "" : $" Did you mean '{path} {typo}'?")
                    + $" Its verbs: {string.Join(", ", verbs)}.";
            }
            command = verb;
            path += " " + verb.Name;
        }
        return command.Action is null && command.Subcommands.Count > 0
            ? $"'{path}' needs a verb: {string.Join(", ", command.Subcommands.Where(c => !c.Hidden).Select(c => c.Name))}."
            : null;
    }

    static string PathOf(SymbolResult? result)
    {
        var names = new List<string>();
        for (; result is not null; result = result.Parent)
        {
            if (result is CommandResult c)
            {
                names.Insert(0, c.Command is RootCommand ? "pprnet" : c.Command.Name);
            }
        }
        return string.Join(' ', names);
    }

    static string UsageOf(CommandResult command)
    {
        var parts = new List<string> { PathOf(command) };
        parts.AddRange(command.Command.Arguments.Select(a => $"<{a.Name}>"));
        parts.AddRange(command.Command.Options.Where(o => o.Required).Select(o => $"{o.Name} {o.HelpName ?? o.Name.TrimStart('-').ToUpperInvariant()}"));
        if (command.Command.Options.Any(o => !o.Required && !o.Hidden && o is not System.CommandLine.Help.HelpOption))
        {
            parts.Add("[options]");
        }
        return string.Join(' ', parts) + $"  (more: {PathOf(command)} --help)";
    }
}
