namespace PprnetNewsletter.Content;

/// <summary>One entry of the blog's taxonomy. The slug is stable; the name is the blog's own wording.</summary>
public sealed record Topic(long Id, string Slug, string Name);
