using System.Diagnostics;
using System.Net;
using System.Net.Http.Headers;
using System.Net.Sockets;
using System.Text;
using Microsoft.AspNetCore.Mvc;
using System.Net.Http.Json;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Security;

/// <summary>A huge bad CSV is refused from a stream: the first 100 problems and the total, in bounded memory.</summary>
public class CsvImportMemoryTests
{
    const long MaxGrowth = 100L * 1024 * 1024;

    /// <summary>A CSV of about <paramref name="bytes"/> octets whose every row has a bad address.</summary>
    static string WriteBadCsv(string folder, long bytes)
    {
        var path = Path.Combine(folder, $"bad-{bytes}.csv");
        using var writer = new StreamWriter(path, false, new UTF8Encoding(false), 1 << 16);
        writer.Write("email,name,topics\n");
        for (var i = 0L; writer.BaseStream.Position < bytes - 64; i++)
        {
            writer.Write($"not-an-address-{i},Reader {i},all\n");
        }
        return path;
    }

    [Fact]
    public async Task A_refusal_lists_the_first_100_problems_and_counts_them_all()
    {
        var (test, client) = await AdminClient.StartAsync();
        await using var _ = test;
        using var __ = client;
        var csv = new StringBuilder("email,name,topics\n");
        for (var i = 0; i < 250; i++)
        {
            csv.Append($"bad{i},x,all\n");
        }

        var response = await client.PostAsync("admin/api/subscribers/import", new StringContent(csv.ToString(), Encoding.UTF8, "text/csv"));

        Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
        var detail = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail!;
        Assert.Contains("250 problems in all; the first 100 are listed", detail);
        Assert.Contains("line 101:", detail);
        Assert.DoesNotContain("line 102:", detail);
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    [Fact]
    public async Task The_command_line_refuses_a_64_MB_bad_file_within_100_MB_more_than_a_tiny_one()
    {
        await using var test = await TestApp.CreateAsync();
        var tiny = WriteBadCsv(test.Folder, 1024);
        var huge = WriteBadCsv(test.Folder, 64_000_000);

        var (tinyRun, tinyPeak) = await ImportAsync(test, tiny);
        var (hugeRun, hugePeak) = await ImportAsync(test, huge);

        Assert.Equal((2, 2), (tinyRun.ExitCode, hugeRun.ExitCode));
        Assert.Contains("problems in all; the first 100 are listed", hugeRun.Error);
        Assert.True(hugeRun.Error.Length < 64 * 1024, $"{hugeRun.Error.Length} characters of error");
        Console.WriteLine($"Command line refusing a 64 MB bad CSV: peak {hugePeak / 1e6:N0} MB; a 1 KB one: {tinyPeak / 1e6:N0} MB.");
        Assert.True(hugePeak - tinyPeak <= MaxGrowth, $"peak {hugePeak / 1e6:N0} MB against {tinyPeak / 1e6:N0} MB for a tiny file");
        Assert.Equal(0, await test.Get<ISubscriberStore>().CountAsync());
    }

    static async Task<(PprnetRun Run, long Peak)> ImportAsync(TestApp test, string csv)
    {
        using var process = Process.Start(PprnetProcess.StartInfo(test, new Dictionary<string, string?>(), new Dictionary<string, string>(), "subscribers", "import", csv))!;
        var output = process.StandardOutput.ReadToEndAsync();
        var error = process.StandardError.ReadToEndAsync();
        using var timeout = new CancellationTokenSource(TimeSpan.FromMinutes(5));
        var peak = await ProcessMemory.PeakUntilExitAsync(process, timeout.Token);
        await process.WaitForExitAsync(timeout.Token);
        return (new PprnetRun(process.ExitCode, await output, await error), peak);
    }

    [Fact]
    public async Task The_service_refuses_a_64_MB_bad_upload_growing_by_at_most_100_MB()
    {
        await using var test = await TestApp.CreateAsync();
        var huge = WriteBadCsv(test.Folder, 64_000_000);
        var key = AdminClient.NewKey();
        var port = FreePort();
        var start = PprnetProcess.StartInfo(test, new Dictionary<string, string?>
        {
            ["Admin:ApiKey"] = key,
            ["Web:Urls"] = $"http://127.0.0.1:{port}",
            ["Content:FirstStartFolder"] = "",
        }, new Dictionary<string, string>(), "serve");
        using var service = Process.Start(start)!;
        var output = service.StandardOutput.ReadToEndAsync();
        var error = service.StandardError.ReadToEndAsync();
        try
        {
            using var client = new HttpClient { BaseAddress = new Uri($"http://127.0.0.1:{port}/"), Timeout = TimeSpan.FromMinutes(5) };
            client.DefaultRequestHeaders.Authorization = new AuthenticationHeaderValue("Bearer", key);
            await WaitUntilHealthyAsync(client, service);
            // Once through the import path with a small bad file, so what is measured next is the large file alone.
            Assert.Equal(HttpStatusCode.BadRequest, (await PostAsync(client, WriteBadCsv(test.Folder, 4096))).StatusCode);
            var before = ProcessMemory.ResidentBytes(service);

            var response = await PostAsync(client, huge);

            var peak = ProcessMemory.PeakBytes(service);
            Assert.Equal(HttpStatusCode.BadRequest, response.StatusCode);
            var detail = (await response.Content.ReadFromJsonAsync<ProblemDetails>())!.Detail!;
            Assert.Contains("problems in all; the first 100 are listed", detail);
            Assert.True(peak - before <= MaxGrowth, $"resident {before / 1e6:N0} MB before, peak {peak / 1e6:N0} MB while refusing");
            Console.WriteLine($"Service refusing a 64 MB bad CSV: resident {before / 1e6:N0} MB before, peak {peak / 1e6:N0} MB.");
        }
        finally
        {
            service.Kill(entireProcessTree: true);
            await service.WaitForExitAsync();
            await Task.WhenAll(output, error);
        }
    }

    static async Task<HttpResponseMessage> PostAsync(HttpClient client, string path)
    {
        await using var file = File.OpenRead(path);
        var content = new StreamContent(file);
        content.Headers.ContentType = new MediaTypeHeaderValue("text/csv");
        return await client.PostAsync("admin/api/subscribers/import", content);
    }

    static async Task WaitUntilHealthyAsync(HttpClient client, Process service)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromMinutes(3);
        while (DateTime.UtcNow < deadline && !service.HasExited)
        {
            try
            {
                if ((await client.GetAsync("health")).IsSuccessStatusCode)
                {
                    return;
                }
            }
            catch (HttpRequestException)
            {
                // Not listening yet.
            }
            await Task.Delay(200);
        }
        throw new TimeoutException("The service did not answer /health.");
    }

    static int FreePort()
    {
        using var listener = new TcpListener(IPAddress.Loopback, 0);
        listener.Start();
        return ((IPEndPoint)listener.LocalEndpoint).Port;
    }
}
