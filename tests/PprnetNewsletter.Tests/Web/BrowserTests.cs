using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

/// <summary>The pages in a real browser: headless Chromium, driven over WebDriver.</summary>
public class BrowserTests
{
    [Fact]
    public async Task The_subscribe_form_is_usable_with_the_keyboard_and_every_field_is_labelled()
    {
        await using var test = await TestApp.StartWebAsync();
        using var browser = Browser.Start();

        browser.GoTo(test.BaseAddress);

        Assert.Equal("en", browser.Find("html").GetAttribute("lang"));
        foreach (var input in browser.FindAll("input:not([type=hidden])"))
        {
            var id = input.GetAttribute("id");
            Assert.Single(browser.FindAll($"label[for='{id}']"));
        }
        Assert.Equal(37, browser.FindAll("fieldset input[type=checkbox]").Count);
        var stylesApplied = browser.Find("button[type=submit]").GetCssValue("background-color");
        Assert.NotEqual("rgba(0, 0, 0, 0)", stylesApplied);
        browser.Screenshot("subscribe-form");
    }
}
