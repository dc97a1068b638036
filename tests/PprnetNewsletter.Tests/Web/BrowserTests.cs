using OpenQA.Selenium;
using PprnetNewsletter.Subscribers;
using PprnetNewsletter.Tests.Support;

namespace PprnetNewsletter.Tests.Web;

/// <summary>The pages in a real browser: headless Chromium, driven over WebDriver. Screenshots are kept as artefacts.</summary>
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
        Assert.Equal("Topics", browser.Find("fieldset legend").Text);

        // Keyboard only: type the address, tab to the name, then tick a topic with the space bar.
        browser.Find("#email").SendKeys("kim@example.org" + Keys.Tab + "Kim");
        Assert.Equal("name", browser.Driver.SwitchTo().ActiveElement().GetAttribute("id"));
        browser.Find("#topic-empathy").SendKeys(" ");
        Assert.True(browser.Find("#topic-empathy").Selected);
        var outline = browser.Driver.SwitchTo().ActiveElement().GetCssValue("outline-style");
        Assert.NotEqual("none", outline);
        browser.Screenshot("subscribe-form");
    }

    [Fact]
    public async Task A_reader_subscribes_confirms_from_the_email_link_and_uses_the_preference_centre()
    {
        await using var test = await TestApp.StartWebAsync();
        using var browser = Browser.Start();

        browser.GoTo(test.BaseAddress);
        browser.Find("#email").SendKeys("kim@example.org");
        browser.Find("#name").SendKeys("Kim Lee");
        browser.Find("#topic-empathy").Click();
        browser.Find("#topic-trauma-and-or-ptsd").Click();
        browser.Find("form.subscribe button[type=submit]").Click();
        browser.WaitFor("h1", "Check your inbox");

        var confirmLink = Outbox.LinkTo(Assert.Single(Outbox.To(test, "kim@example.org")), "/confirm");
        browser.GoTo(new Uri(test.BaseAddress, confirmLink));
        browser.Find("main form button[type=submit]").Click();
        browser.WaitFor("h1", "You are subscribed");
        Assert.Equal(SubscriberStatus.Confirmed, (await test.Get<ISubscriberStore>().FindByEmailAsync("kim@example.org"))!.Status);

        browser.Driver.FindElement(By.LinkText("Manage your preferences")).Click();
        browser.WaitFor("h1", "Your preferences");
        Assert.True(browser.Find("#topic-empathy").Selected);
        browser.Find("#topic-trauma-and-or-ptsd").Click();
        browser.Find("#topic-training").Click();
        var name = browser.Find("#name");
        name.Clear();
        name.SendKeys("Kim L.");
        browser.Find("main form button[type=submit]").Click();
        browser.WaitFor(".notice", "Your preferences are saved.");
        Assert.True(browser.Find("#topic-training").Selected);
        Assert.False(browser.Find("#topic-trauma-and-or-ptsd").Selected);
        browser.Screenshot("preferences");

        browser.Driver.FindElement(By.XPath("//button[normalize-space()='Pause the digest']")).Click();
        browser.WaitFor(".notice", "The digest is paused.");
        var kim = (await test.Get<ISubscriberStore>().FindByEmailAsync("kim@example.org"))!;
        Assert.Equal((SubscriberStatus.Paused, "Kim L."), (kim.Status, kim.Name));
        browser.Screenshot("preferences-paused");
    }
}
