using OpenQA.Selenium;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

/// <summary>The subscribe page on a phone-sized screen (390 × 844 CSS pixels), in headless Chromium.</summary>
public class PhoneLayoutTests
{
    const int Width = 390;
    const int Height = 844;

    [Fact]
    public async Task On_a_390_by_844_screen_the_subscribe_button_starts_within_two_screen_heights()
    {
        await using var test = await TestApp.StartWebAsync();
        using var browser = Browser.Start(Width, Height);

        browser.GoTo(test.BaseAddress);

        Assert.Equal(Width, Convert.ToInt32(browser.Driver.ExecuteScript("return window.innerWidth;")));
        // Nothing wider than the screen: no sideways scrolling.
        Assert.Equal(true, browser.Driver.ExecuteScript(
            "return document.documentElement.scrollWidth <= document.documentElement.clientWidth;"));
        var button = browser.Find("form.subscribe button[type=submit]");
        var top = Convert.ToDouble(browser.Driver.ExecuteScript(
            "return arguments[0].getBoundingClientRect().top + window.scrollY;", button));
        browser.Screenshot("subscribe-390x844");
        Assert.True(top <= 2 * Height, $"the Subscribe button starts {top} px down; two screens are {2 * Height} px");

        // Still the accessible form: one fieldset with its legend, every checkbox labelled, two columns of topics.
        Assert.Equal("Topics", browser.Find("fieldset legend").Text);
        foreach (var box in browser.FindAll("fieldset input[type=checkbox]"))
        {
            Assert.Single(browser.FindAll($"label[for='{box.GetAttribute("id")}']"));
        }
        var lefts = browser.FindAll(".topic-list li").Select(li => li.Location.X).Distinct().Count();
        Assert.Equal(2, lefts);
        Assert.Empty(browser.FindAll("script"));
    }

    [Fact]
    public async Task Below_360_pixels_the_topics_are_one_column()
    {
        await using var test = await TestApp.StartWebAsync();
        using var browser = Browser.Start(340, 700);

        browser.GoTo(test.BaseAddress);

        Assert.Single(browser.FindAll(".topic-list li").Select(li => li.Location.X).Distinct());
    }

    [Fact]
    public void A_missing_chromium_is_reported_with_the_packages_to_install()
    {
        var e = Assert.Throws<InvalidOperationException>(() => Browser.RequireInstalled(chromium: "/nonexistent/chromium"));

        Assert.Contains("chromium and chromium-driver", e.Message);
        Assert.Contains("/nonexistent/chromium is missing", e.Message);
        Assert.Contains("apt-get install chromium chromium-driver", e.Message);
    }
}
