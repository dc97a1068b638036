using System.Drawing;
using OpenQA.Selenium;
using OpenQA.Selenium.Chrome;

namespace PprnetNewsletter.Tests.Support;

/// <summary>
/// Headless Debian Chromium driven by Debian's chromedriver (both at /usr/bin; .ci/run installs them). Paths
/// are explicit so Selenium never tries to download a browser or a driver. Each browser has a fresh profile.
/// </summary>
public sealed class Browser : IDisposable
{
    const string ChromiumPath = "/usr/bin/chromium";
    const string DriverFolder = "/usr/bin";
    const string DriverFile = "chromedriver";

    readonly DirectoryInfo _profile;

    Browser(ChromeDriver driver, DirectoryInfo profile)
    {
        Driver = driver;
        _profile = profile;
    }

    public ChromeDriver Driver { get; }

    /// <summary>Where screenshots are kept as test artefacts: TestResults/screenshots under the test output folder.</summary>
    public static string ScreenshotFolder => Path.Combine(AppContext.BaseDirectory, "TestResults", "screenshots");

    /// <summary>
    /// Throws, saying what to install, when Debian's Chromium or its driver is missing: without this the failure is
    /// Selenium's, which talks of a driver it cannot download.
    /// </summary>
    public static void RequireInstalled(string chromium = ChromiumPath, string driver = DriverFolder + "/" + DriverFile)
    {
        var missing = new[] { chromium, driver }.Where(path => !File.Exists(path)).ToList();
        if (missing.Count > 0)
        {
            throw new InvalidOperationException(
                $"The browser tests need Debian's chromium and chromium-driver packages, and {string.Join(" and ", missing)} "
                + "is missing. Install them with 'apt-get install chromium chromium-driver' (as root; .ci/run does this).");
        }
    }

    /// <summary>A browser whose window (and so viewport, headless) is <paramref name="width"/> × <paramref name="height"/> CSS pixels.</summary>
    public static Browser Start(int width = 1100, int height = 1900)
    {
        RequireInstalled();
        var profile = Directory.CreateTempSubdirectory("pprnet-chromium-");
        var service = ChromeDriverService.CreateDefaultService(DriverFolder, DriverFile);
        service.SuppressInitialDiagnosticInformation = true;
        service.HideCommandPromptWindow = true;
        var options = new ChromeOptions { BinaryLocation = ChromiumPath };
        options.AddArguments(
            "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
            "--disable-background-networking", "--disable-component-update", "--disable-sync",
            $"--user-data-dir={profile.FullName}");
        var driver = new ChromeDriver(service, options, TimeSpan.FromSeconds(60));
        driver.Manage().Window.Size = new Size(width, height);
        return new Browser(driver, profile);
    }

    public void GoTo(Uri url) => Driver.Navigate().GoToUrl(url);

    public IWebElement Find(string css) => Driver.FindElement(By.CssSelector(css));

    public IReadOnlyCollection<IWebElement> FindAll(string css) => Driver.FindElements(By.CssSelector(css));

    /// <summary>
    /// The element of the page the browser is on once <paramref name="css"/> matches one whose text is
    /// <paramref name="text"/>: after a click, the old page may still be showing for a moment.
    /// </summary>
    public IWebElement WaitFor(string css, string text)
    {
        var deadline = DateTime.UtcNow + TimeSpan.FromSeconds(15);
        while (true)
        {
            try
            {
                var element = Driver.FindElements(By.CssSelector(css)).FirstOrDefault(e => e.Text == text);
                if (element is not null)
                {
                    return element;
                }
            }
            catch (StaleElementReferenceException)
            {
                // The page changed under the search: look again.
            }
            catch (UnknownErrorException) when (DateTime.UtcNow < deadline)
            {
                // Chrome's way of saying the same while a navigation replaces the document ("node does not belong to the
                // document"): look again, until the deadline.
            }
            if (DateTime.UtcNow > deadline)
            {
                throw new TimeoutException($"No '{css}' with text '{text}' on {Driver.Url}");
            }
            Thread.Sleep(50);
        }
    }

    /// <summary>Saves a PNG of the current page and returns its path.</summary>
    public string Screenshot(string name)
    {
        Directory.CreateDirectory(ScreenshotFolder);
        var path = Path.Combine(ScreenshotFolder, name + ".png");
        Driver.GetScreenshot().SaveAsFile(path);
        return path;
    }

    public void Dispose()
    {
        Driver.Quit();
        Driver.Dispose();
        try
        {
            _profile.Delete(recursive: true);
        }
        catch (IOException)
        {
            // Chromium may still be releasing its profile files: the temp folder is cleaned by the OS later.
        }
    }
}
