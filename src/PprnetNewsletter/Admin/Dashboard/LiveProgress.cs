using System.Text.Json;
using PprnetNewsletter.Content;
using PprnetNewsletter.Delivery;

namespace PprnetNewsletter.Admin.Dashboard;

/// <summary>One reading of an edition's ledger as the live bar gets it.</summary>
public sealed record ProgressEvent(IReadOnlyDictionary<string, long> Counts, long Total, int Percent, double? PerSecond, double? EtaSeconds, string Text);

/// <summary>
/// GET /admin/editions/{month}/progress: server-sent events with the ledger's counts every second, and the rate and time
/// left over the last ten seconds. It reads only the ledger's counts, so it follows any send of the edition, whoever
/// started it (dashboard, API, command line, schedule, retry job).
/// </summary>
public static class LiveProgress
{
    static readonly TimeSpan Interval = TimeSpan.FromSeconds(1);
    static readonly TimeSpan RateWindow = TimeSpan.FromSeconds(10);
    static readonly JsonSerializerOptions Json = new(JsonSerializerDefaults.Web);

    public static async Task StreamAsync(string month, HttpContext http, IContentStore content, EditionSender sender, TimeProvider time,
        IHostApplicationLifetime lifetime)
    {
        if (!MonthNames.TryParse(month, out _) || await content.GetEditionAsync(month, http.RequestAborted) is null)
        {
            http.Response.StatusCode = StatusCodes.Status404NotFound;
            return;
        }
        // The stream ends when the page is left or the service stops, whichever comes first.
        using var stop = CancellationTokenSource.CreateLinkedTokenSource(http.RequestAborted, lifetime.ApplicationStopping);
        http.Response.ContentType = "text/event-stream";
        http.Response.Headers.CacheControl = "no-store";
        var samples = new Queue<(DateTimeOffset At, long Done)>();
        try
        {
            while (!stop.IsCancellationRequested)
            {
                var progress = new LedgerProgress((await sender.StatusAsync(month, stop.Token)).Counts);
                var now = time.GetUtcNow();
                var done = progress.Total - progress.Count(DeliveryState.Pending);
                samples.Enqueue((now, done));
                while (samples.Count > 1 && samples.Peek().At < now - RateWindow)
                {
                    samples.Dequeue();
                }
                var (fromAt, fromDone) = samples.Peek();
                var seconds = (now - fromAt).TotalSeconds;
                double? rate = seconds > 0 ? (done - fromDone) / seconds : null;
                var pending = progress.Count(DeliveryState.Pending);
                double? eta = pending == 0 ? 0 : rate > 0 ? pending / rate : null;
                var reading = new ProgressEvent(LedgerProgress.Segments.ToDictionary(s => s, progress.Count), progress.Total, progress.PercentDone,
                    rate, eta, Describe(progress, rate, eta));
                await http.Response.WriteAsync($"data: {JsonSerializer.Serialize(reading, Json)}\n\n", stop.Token);
                await http.Response.Body.FlushAsync(stop.Token);
                await Task.Delay(Interval, time, stop.Token);
            }
        }
        catch (OperationCanceledException) when (stop.IsCancellationRequested)
        {
            // The reader left or the service is stopping: the stream simply ends.
        }
    }

    /// <summary>"100 % · 120 sent, 2 failed, 3 skipped · 45.0 messages/s · about 2 min left".</summary>
    public static string Describe(LedgerProgress progress, double? rate, double? eta)
    {
        var parts = new List<string> { $"{progress.PercentDone} %" };
        parts.Add(string.Join(", ", LedgerProgress.Segments.Where(s => progress.Count(s) > 0).Select(s => $"{progress.Count(s)} {s}")) is { Length: > 0 } counts
            ? counts : "no recipients yet");
        if (rate is > 0)
        {
            parts.Add($"{rate:0.0} messages/s");
        }
        if (progress.Count(DeliveryState.Pending) > 0 && eta is { } left)
        {
            parts.Add(left < 60 ? $"about {Math.Ceiling(left):0} s left" : $"about {Math.Ceiling(left / 60):0} min left");
        }
        return string.Join(" · ", parts);
    }
}
