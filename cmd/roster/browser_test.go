package main

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
)

// chromium returns the path of a Chromium to drive, or skips the test
// (fails it when CI=true) when there is none.
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{"chromium", "chromium-browser", "google-chrome", "google-chrome-stable"} {
		if p, err := exec.LookPath(name); err == nil {
			return p
		}
	}
	msg := "no Chromium to run the console's browser tests: install it (apt-get install chromium), as .ci/run does"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg)
	}
	t.Skip(msg)
	return ""
}

// TestTheConsoleInABrowser drives headless Chromium through the console
// of a real roster serve: the first-run link sets the password, the admin
// logs in, creates a directory and a token (its secret shown once), a
// user provisioned over SCIM with that token appears in the live feed
// without a reload (as text, though its userName is HTML) and on the open
// users page, pausing holds
// changes back, the user's page shows its history and the request, and
// a webhook's failed delivery shows and is sent again, the request log
// filters, and a token revoked in the console is refused
// by SCIM. Screenshots go to the test's artifact
// directory (go test -artifacts keeps them).
func TestTheConsoleInABrowser(t *testing.T) {
	t.Parallel()
	exe := chromium(t)
	logs, stdout := &syncBuffer{}, &syncBuffer{}
	var webhookUp atomic.Bool
	receiver := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !webhookUp.Load() {
			http.Error(w, "down for maintenance", http.StatusServiceUnavailable)
		}
	}))
	defer receiver.Close()
	db := filepath.Join(t.TempDir(), "roster.db")
	cmd := exec.Command(rosterCommand(t), "serve", "--addr", "127.0.0.1:0", "--db", db, "--allow-private-webhooks")
	cmd.Env = []string{quickExit()}
	cmd.Stdout, cmd.Stderr = stdout, logs
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	exited := make(chan error, 1)
	go func() { exited <- cmd.Wait() }()
	t.Cleanup(func() { cmd.Process.Kill() })
	base := waitFor(t, logs, regexp.MustCompile(`msg="serving the console" url=(http://127\.0\.0\.1:[0-9]+)/ui/`), exited)
	link := regexp.MustCompile(`http://\S+/ui/setup\?token=\S+`).FindString(stdout.String())
	if link == "" {
		t.Fatalf("roster serve printed no setup link:\n%s", stdout.String())
	}

	opts := append(chromedp.DefaultExecAllocatorOptions[:], chromedp.ExecPath(exe), chromedp.NoSandbox, chromedp.DisableGPU,
		chromedp.WindowSize(1280, 800))
	actx, cancelAlloc := chromedp.NewExecAllocator(context.Background(), opts...)
	defer cancelAlloc()
	ctx, cancel := chromedp.NewContext(actx)
	defer cancel()
	ctx, cancelTimeout := context.WithTimeout(ctx, 5*time.Minute)
	defer cancelTimeout()
	// The first Run starts the browser, which lives as long as the
	// context it was given: this one, not a step's.
	if err := chromedp.Run(ctx); err != nil {
		t.Fatalf("start %s: %v", exe, err)
	}
	shots := t.ArtifactDir()
	// Each step has 30 seconds, after which the page it is on is shown.
	step := func(what string, actions ...chromedp.Action) {
		t.Helper()
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if err := chromedp.Run(sctx, actions...); err != nil {
			var html, at string
			chromedp.Run(ctx, chromedp.Location(&at), chromedp.OuterHTML("main", &html, chromedp.ByQuery))
			t.Fatalf("%s: %v\nat %s:\n%s", what, err, at, html)
		}
	}
	// A screenshot of the viewport (a full-page one sometimes finds a page
	// of no width yet); one that fails is logged, not a failure.
	screenshot := func(name string) chromedp.Action {
		return chromedp.ActionFunc(func(ctx context.Context) error {
			// Headless Chromium sometimes never answers for a page with a
			// stream open: give up on the picture, not the step.
			ctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			defer cancel()
			var png []byte
			if err := chromedp.CaptureScreenshot(&png).Do(ctx); err != nil {
				t.Logf("screenshot %s: %v", name, err)
				return nil
			}
			return os.WriteFile(filepath.Join(shots, name+".png"), png, 0o644)
		})
	}
	const password = "a browser's long passphrase"

	step("set the first admin's password with the first-run link",
		chromedp.Navigate(link),
		chromedp.SendKeys("#password", password, chromedp.ByID),
		chromedp.SendKeys("#confirm", password, chromedp.ByID),
		chromedp.Submit("#confirm", chromedp.ByID),
		chromedp.WaitVisible(`//h1[text()="Directories"]`))
	step("log out and in again",
		chromedp.Click(`//button[text()="Log out"]`),
		chromedp.WaitVisible("#name", chromedp.ByID),
		chromedp.SendKeys("#name", "admin", chromedp.ByID),
		chromedp.SendKeys("#password", password, chromedp.ByID),
		chromedp.Submit("#password", chromedp.ByID),
		chromedp.WaitVisible(`//h1[text()="Directories"]`))
	var dirURL, secret string
	step("create a directory",
		chromedp.SendKeys("#dir-name", "acme", chromedp.ByID),
		chromedp.Submit("#dir-name", chromedp.ByID),
		chromedp.WaitVisible(`//h1[text()="Directory acme"]`),
		chromedp.Location(&dirURL))
	step("create a token",
		chromedp.SendKeys("#token-name", "okta", chromedp.ByID),
		chromedp.Submit("#token-name", chromedp.ByID),
		chromedp.WaitVisible("#new-secret", chromedp.ByID),
		chromedp.Text("#new-secret", &secret, chromedp.ByID),
		screenshot("directory"))
	if !strings.HasPrefix(secret, "rst_") {
		t.Fatalf("the token's secret shown is %q", secret)
	}
	var again string
	step("see the directory again", chromedp.Navigate(dirURL), chromedp.OuterHTML("html", &again, chromedp.ByQuery))
	if strings.Contains(again, secret) || !strings.Contains(again, "okta") {
		t.Fatal("the token's secret is shown a second time, or the token is not listed")
	}
	dirID := dirURL[strings.LastIndexByte(dirURL, '/')+1:]
	create := exec.Command(rosterCommand(t), "webhook", "create", "--url", receiver.URL, "--directory", "acme", "--allow-private", "--db", db)
	create.Env = []string{quickExit()} // none of the caller's ROSTER_* variables
	if out, err := create.CombinedOutput(); err != nil {
		t.Fatalf("roster webhook create: %v\n%s", err, out)
	}

	client := testClient(t)
	scim := func(method, path, body string, want int) string {
		t.Helper()
		req, _ := http.NewRequest(method, base+"/scim/v2"+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer resp.Body.Close()
		b, _ := io.ReadAll(resp.Body)
		if resp.StatusCode != want {
			t.Fatalf("%s %s: %d, want %d: %s", method, path, resp.StatusCode, want, b)
		}
		return string(b)
	}
	const xss = `<img src=x onerror=alert(1)>`
	step("open the live feed", chromedp.Navigate(base+"/ui/live?directory="+dirID),
		chromedp.WaitVisible(`//span[@id="feed-state"][text()="live"]`))
	created := scim("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"`+strings.ReplaceAll(xss, `"`, `\"`)+
		`","name":{"givenName":"Ann","familyName":"Lee"},"emails":[{"value":"ann@example.com","primary":true}],"active":true,"password":"hunter2hunter2"}`, 201)
	id := regexp.MustCompile(`"id":"([^"]+)"`).FindStringSubmatch(created)[1]
	var images int
	step("see the user appear in the live feed",
		chromedp.WaitVisible(`//ol[@id="feed"]/li[contains(., "user.created")]`),
		chromedp.Evaluate(`document.querySelectorAll("#feed img").length`, &images),
		screenshot("live"))
	var feedText string
	step("read the feed", chromedp.Text("#feed", &feedText, chromedp.ByID))
	if images != 0 || !strings.Contains(feedText, xss) || !strings.Contains(feedText, "in acme by scim (okta)") {
		t.Fatalf("the userName was not rendered as text: %d images, feed %q", images, feedText)
	}
	step("pause the feed", chromedp.Click("#pause", chromedp.ByID), chromedp.WaitVisible(`//button[@id="pause"][text()="Resume"]`))
	scim("PATCH", "/Users/"+id, `{"schemas":["urn:ietf:params:scim:api:messages:2.0:PatchOp"],"Operations":[{"op":"replace","value":{"active":false}}]}`, 200)
	var shown int
	step("see the change held while paused",
		chromedp.WaitVisible(`//span[@id="feed-state"][text()="paused, 1 held"]`),
		chromedp.Evaluate(`document.querySelectorAll("#feed li").length`, &shown))
	if shown != 1 {
		t.Fatalf("the paused feed shows %d changes, want 1", shown)
	}
	step("resume and see the deactivation",
		chromedp.Click("#pause", chromedp.ByID),
		chromedp.WaitVisible(`//ol[@id="feed"]/li[contains(., "user.deactivated")]`))

	// The webhook's first try failed at once (the next is 5 s later):
	// the directory's page shows it, the webhook's page sends it again.
	var dirText string
	for deadline := time.Now().Add(20 * time.Second); !strings.Contains(dirText, "503"); {
		if time.Now().After(deadline) {
			t.Fatalf("the directory page does not show the failed delivery:\n%s", dirText)
		}
		step("see the directory's webhook", chromedp.Navigate(dirURL), chromedp.Text(`//tr[@class="webhook"]`, &dirText))
	}
	var seq string
	step("open the webhook's page", chromedp.Click(`//tr[@class="webhook"]//a`),
		chromedp.WaitVisible(`//h2[text()="Recent deliveries"]`),
		chromedp.Text(`(//tr[@class="attempt"])[last()]/td[3]`, &seq),
		screenshot("webhook"))
	webhookUp.Store(true)
	step("redeliver the event", chromedp.SendKeys("#r-from", seq, chromedp.ByID), chromedp.Submit("#r-from", chromedp.ByID),
		chromedp.WaitVisible(`//div[@role="status"]//li[contains(., "200")]`))

	step("open the users page", chromedp.Navigate(base+"/ui/directories/"+dirID+"/users"),
		chromedp.WaitVisible(`//table[@id="live-users"][@data-live="open"]`))
	scim("POST", "/Users", `{"schemas":["urn:ietf:params:scim:schemas:core:2.0:User"],"userName":"carol@example.com","active":true}`, 201)
	step("see the new user on the open users page", chromedp.WaitVisible(`//tr[@class="user"]//a[text()="carol@example.com"]`),
		screenshot("users"))
	step("search the users", chromedp.Navigate(base+"/ui/directories/"+dirID+"/users"),
		chromedp.SendKeys("#q", "ann@example", chromedp.ByID),
		chromedp.Submit("#q", chromedp.ByID),
		// The page before the search lists ann too: wait for the answer's
		// page (its field holds the search as an attribute) first.
		chromedp.WaitVisible(`//input[@id="q"][@value="ann@example"]`),
		chromedp.WaitVisible(`//tr[@class="user"]/td[text()="ann@example.com"]`))
	var found int
	step("count the users found", chromedp.Evaluate(`document.querySelectorAll("tr.user").length`, &found))
	if found != 1 {
		t.Errorf("the search for ann@example shows %d users, want 1", found)
	}
	var history string
	step("open the user's page", chromedp.Click(`//tr[@class="user"]//a`),
		chromedp.WaitVisible(`//h2[text()="History"]`),
		// The request log is written a moment after the answer.
		chromedp.Poll(`document.querySelectorAll("tr.request").length >= 2`, nil, chromedp.WithPollingTimeout(10*time.Second)),
		chromedp.Text("main", &history, chromedp.ByQuery),
		screenshot("user"))
	for _, want := range []string{"user.deactivated", "user.created", "PATCH", "POST", "okta", xss} {
		if !strings.Contains(history, want) {
			t.Errorf("the user's page lacks %q:\n%s", want, history)
		}
	}
	var rows []string
	step("filter the request log",
		chromedp.Navigate(base+"/ui/requests"),
		chromedp.SetValue("#f-method", "PATCH", chromedp.ByID),
		chromedp.SetValue("#f-status", "2xx", chromedp.ByID),
		chromedp.Submit("#f-method", chromedp.ByID),
		// The unfiltered page has rows too: wait for the filtered one.
		chromedp.WaitReady(`//select[@id="f-method"]/option[@selected][text()="PATCH"]`),
		chromedp.WaitVisible(`//tr[contains(@class, "request")]`),
		chromedp.Evaluate(`[...document.querySelectorAll("tr.request")].map(r => r.children[2].textContent)`, &rows),
		screenshot("requests"))
	if len(rows) != 1 || rows[0] != "PATCH" {
		t.Errorf("the request log filtered by PATCH and 2xx shows %v", rows)
	}
	step("revoke the token", chromedp.Navigate(dirURL),
		chromedp.Click(`//button[@aria-label="Revoke token okta"]`),
		chromedp.WaitVisible(`//tr[@class="token"]/td[text()="revoked"]`))
	// The server remembers a good token for up to 2 seconds.
	deadline := time.Now().Add(10 * time.Second)
	for {
		req, _ := http.NewRequest("GET", base+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode == http.StatusUnauthorized {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("SCIM still takes the revoked token: %d", resp.StatusCode)
		}
		time.Sleep(50 * time.Millisecond)
	}
	t.Logf("screenshots in %s", shots)
}
