using Microsoft.Extensions.Options;
using PprnetNewsletter.Hosting;

namespace PprnetNewsletter.Content;

/// <summary>
/// When the service starts on a database without summaries, imports <see cref="ContentOptions.FirstStartFolder"/>
/// (the repository's sample summaries) so a newcomer's first run has something to preview and send.
/// Runs before the service reports it is listening; verbs never run it.
/// </summary>
public sealed class FirstStartImport(
    SummaryImporter importer,
    IContentStore store,
    IOptions<ContentOptions> options,
    IHostEnvironment environment,
    ILogger<FirstStartImport> logger) : IHostedService
{
    public async Task StartAsync(CancellationToken cancellationToken)
    {
        if (string.IsNullOrWhiteSpace(options.Value.FirstStartFolder) || await store.CountSummariesAsync(cancellationToken) > 0)
        {
            return;
        }
        var folder = AppHome.Resolve(environment.ContentRootPath, options.Value.FirstStartFolder);
        if (!Directory.Exists(folder))
        {
            logger.LogInformation("No summaries yet, and no folder {Folder} to import them from: import some with 'pprnet import PATH'", folder);
            return;
        }
        logger.LogInformation("No summaries yet: importing the summaries in {Folder}", folder);
        try
        {
            await importer.ImportAsync(folder, cancellationToken);
        }
        catch (UsageException e)
        {
            // Bad sample files must not keep the service from running: say what to fix, carry on without them.
            logger.LogError("First start: the summaries in {Folder} were not imported. {Problems}", folder, e.Message);
        }
    }

    public Task StopAsync(CancellationToken cancellationToken) => Task.CompletedTask;
}
