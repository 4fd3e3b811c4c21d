package console_test

import (
	"bufio"
	"context"
	"net/http"
	"net/url"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"golang.org/x/time/rate"

	"github.com/rosterhq/roster/console"
	"github.com/rosterhq/roster/scim/resource"
	"github.com/rosterhq/roster/scim/schema"
	"github.com/rosterhq/roster/store"
)

func TestWithoutASessionPagesSendToTheLoginAndFormsAreRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	b := e.browser(t, e.client)
	for _, path := range []string{"/ui/", "/ui/requests?status=4xx", "/ui/live", "/ui/directories/x/users"} {
		p := b.get(path).must(t, http.StatusSeeOther)
		if loc := p.header.Get("Location"); loc != "/ui/login?next="+url.QueryEscape(path) {
			t.Errorf("GET %s sent to %q", path, loc)
		}
	}
	b.post("/ui/directories", url.Values{"name": {"acme"}}).must(t, http.StatusUnauthorized)
	if dirs, _ := e.st.Directories(context.Background()); len(dirs) != 0 {
		t.Errorf("a form without a session made %d directories", len(dirs))
	}
	// A cookie the store does not know is no session.
	b.http.Jar.SetCookies(mustURL(t, e.url+"/ui/"), []*http.Cookie{{Name: "roster_session", Value: "rss_forged"}})
	b.get("/ui/").must(t, http.StatusSeeOther)
}

func mustURL(t *testing.T, s string) *url.URL {
	t.Helper()
	u, err := url.Parse(s)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestASetupLinkSetsThePasswordOnceAndLogsIn(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	ctx := context.Background()
	link := e.setupLink(t)
	b := e.browser(t, e.client)
	p := b.get("/ui/setup?token="+url.QueryEscape(link)).must(t, 200)
	form := url.Values{"csrf": {p.csrf(t)}, "token": {link}, "password": {"short"}, "confirm": {"short"}}
	if p := b.post("/ui/setup", form).must(t, http.StatusBadRequest); !strings.Contains(p.body, "at least 12 characters") {
		t.Errorf("a short password was refused with:\n%s", p.body)
	}
	form.Set("password", testPassword)
	form.Set("confirm", testPassword)
	p = b.post("/ui/setup", form).must(t, http.StatusSeeOther)
	cookie := sessionCookie(t, p)
	if !cookie.HttpOnly || cookie.SameSite != http.SameSiteStrictMode || cookie.Secure {
		t.Errorf("the session cookie over plain HTTP is %+v, want HttpOnly, SameSite=Strict, not Secure", cookie)
	}
	if p := b.get("/ui/").must(t, 200); !strings.Contains(p.body, "ada") {
		t.Errorf("the logged-in page does not name the admin:\n%s", p.body)
	}
	other := e.browser(t, e.client)
	other.get("/ui/setup?token="+url.QueryEscape(link)).must(t, http.StatusUnauthorized)
	_, hash, err := e.st.AdminPassword(ctx, "ada")
	if err != nil || !strings.HasPrefix(hash, "$argon2id$v=19$m=19456,t=2,p=1$") || strings.Contains(hash, testPassword) {
		t.Errorf("the stored password is %q, %v; want an argon2id hash", hash, err)
	}
}

func sessionCookie(t *testing.T, p page) *http.Cookie {
	t.Helper()
	for _, c := range (&http.Response{Header: p.header}).Cookies() {
		if c.Name == "roster_session" {
			return c
		}
	}
	t.Fatalf("no session cookie was set: %v", p.header)
	return nil
}

func TestTheSessionCookieIsSecureUnderTLS(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, true)
	link := e.setupLink(t)
	client := &http.Client{Transport: tlsTransport(t, e)}
	b := e.browser(t, client)
	p := b.get("/ui/setup?token="+url.QueryEscape(link)).must(t, 200)
	p = b.post("/ui/setup", url.Values{"csrf": {p.csrf(t)}, "token": {link}, "password": {testPassword}, "confirm": {testPassword}}).must(t, 303)
	if c := sessionCookie(t, p); !c.Secure || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode {
		t.Errorf("the session cookie under TLS is %+v, want Secure, HttpOnly, SameSite=Strict", c)
	}
}

func TestAFormWithoutItsCSRFTokenIsRefused(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	b := e.login(t, e.client)
	csrf := b.get("/ui/").must(t, 200).csrf(t)
	b.post("/ui/directories", url.Values{"name": {"acme"}}).must(t, http.StatusForbidden)
	wrong := "0" + csrf[1:]
	if wrong == csrf {
		wrong = "1" + csrf[1:]
	}
	b.post("/ui/directories", url.Values{"name": {"acme"}, "csrf": {wrong}}).must(t, http.StatusForbidden)
	if _, err := e.st.Directory(context.Background(), "acme"); err == nil {
		t.Fatal("a form without its CSRF token made a directory")
	}
	b.post("/ui/directories", url.Values{"name": {"acme"}, "csrf": {csrf}}).must(t, http.StatusSeeOther)
	if _, err := e.st.Directory(context.Background(), "acme"); err != nil {
		t.Fatalf("the form with its CSRF token made no directory: %v", err)
	}
	// The login form has a token of its own.
	anon := e.browser(t, e.client)
	anon.post("/ui/login", url.Values{"name": {"ada"}, "password": {testPassword}}).must(t, http.StatusForbidden)
}

func TestAWrongPasswordIs401AndLoginsAreRateLimited(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{LoginRate: rate.Every(time.Hour), LoginBurst: 3}, false)
	ctx := context.Background()
	hash, err := console.HashPassword(testPassword)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := e.st.SetAdminPassword(ctx, "ada", hash); err != nil {
		t.Fatal(err)
	}
	b := e.browser(t, e.client)
	csrf := b.get("/ui/login").must(t, 200).csrf(t)
	for _, name := range []string{"ada", "nobody"} {
		p := b.post("/ui/login", url.Values{"csrf": {csrf}, "name": {name}, "password": {"wrong password!"}}).must(t, http.StatusUnauthorized)
		if !strings.Contains(p.body, "Wrong name or password.") {
			t.Errorf("a wrong login by %s answered:\n%s", name, p.body)
		}
	}
	p := b.post("/ui/login", url.Values{"csrf": {csrf}, "name": {"ada"}, "password": {testPassword}, "next": {"/ui/requests"}}).must(t, http.StatusSeeOther)
	if loc := p.header.Get("Location"); loc != "/ui/requests" {
		t.Errorf("the login sent to %q", loc)
	}
	p = b.post("/ui/login", url.Values{"csrf": {csrf}, "name": {"ada"}, "password": {testPassword}}).must(t, http.StatusTooManyRequests)
	if p.header.Get("Retry-After") == "" {
		t.Error("a limited login has no Retry-After")
	}
}

func TestLoginSendsOnlyToConsolePages(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	hash, _ := console.HashPassword(testPassword)
	e.st.SetAdminPassword(context.Background(), "ada", hash)
	for _, next := range []string{"https://evil.example/", "//evil.example/ui/", "/ui/\\evil", "/scim/v2/Users"} {
		b := e.browser(t, e.client)
		csrf := b.get("/ui/login").must(t, 200).csrf(t)
		p := b.post("/ui/login", url.Values{"csrf": {csrf}, "name": {"ada"}, "password": {testPassword}, "next": {next}}).must(t, 303)
		if loc := p.header.Get("Location"); loc != "/ui/" {
			t.Errorf("next=%q sent to %q", next, loc)
		}
	}
}

func TestSessionsExpireAndLogoutEndsThem(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	ctx := context.Background()
	a, err := e.st.SetAdminPassword(ctx, "ada", "$argon2id$v=19$m=1,t=1,p=1$c2FsdA$a2V5")
	if err != nil {
		t.Fatal(err)
	}
	expired, err := e.st.CreateSession(ctx, a.ID, time.Now().Add(-time.Second))
	if err != nil {
		t.Fatal(err)
	}
	b := e.browser(t, e.client)
	b.http.Jar.SetCookies(mustURL(t, e.url+"/ui/"), []*http.Cookie{{Name: "roster_session", Value: expired}})
	b.get("/ui/").must(t, http.StatusSeeOther)

	b = e.login(t, e.client)
	csrf := b.get("/ui/").must(t, 200).csrf(t)
	b.post("/ui/logout", url.Values{"csrf": {csrf}}).must(t, http.StatusSeeOther)
	b.get("/ui/").must(t, http.StatusSeeOther)
}

var nonceAttr = regexp.MustCompile(`<script src="/ui/static/console.js" nonce="([^"]+)"`)

func TestEveryPageHasAStrictCSPWithANonce(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	b := e.login(t, e.client)
	seen := map[string]bool{}
	for _, path := range []string{"/ui/login", "/ui/", "/ui/requests", "/ui/live"} {
		p := b.get(path).must(t, 200)
		csp := p.header.Get("Content-Security-Policy")
		m := nonceAttr.FindStringSubmatch(p.body)
		if m == nil || !strings.Contains(csp, "script-src 'self' 'nonce-"+m[1]+"'") || !strings.Contains(csp, "default-src 'none'") ||
			strings.Contains(csp, "unsafe") || !strings.Contains(csp, "frame-ancestors 'none'") {
			t.Errorf("%s: CSP %q with the script's nonce %v", path, csp, m)
		}
		if m != nil {
			if seen[m[1]] {
				t.Errorf("%s: a nonce was used twice", path)
			}
			seen[m[1]] = true
		}
		if strings.Contains(p.body, "<script>") || strings.Contains(p.body, " onclick=") {
			t.Errorf("%s has an inline script", path)
		}
		if p.header.Get("Referrer-Policy") != "no-referrer" || p.header.Get("X-Frame-Options") != "DENY" {
			t.Errorf("%s: headers %v", path, p.header)
		}
	}
	if p := b.get("/ui/static/console.js").must(t, 200); !strings.Contains(p.body, "EventSource") {
		t.Error("the script is not served")
	}
}

// userType is the registry's User resource type.
func userType() *schema.ResourceType { return schema.NewRegistry().ResourceType("User") }

func createUser(t *testing.T, st store.Resources, dir, body string) *resource.Resource {
	t.Helper()
	r, err := resource.Decode(userType(), []byte(body), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	u, err := st.Create(context.Background(), dir, r)
	if err != nil {
		t.Fatal(err)
	}
	return u
}

func TestEveryPageRendersAndEscapesWhatItShows(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	ctx := context.Background()
	b := e.login(t, e.client)
	d := e.createDirectory(t, "acme<b>")
	const xss = `<img src=x onerror=alert(1)>`
	u := createUser(t, e.st, d.ID, `{"userName":"`+strings.ReplaceAll(xss, `"`, `\"`)+`","externalId":"ext-1","name":{"givenName":"Ann","familyName":"Lee"},`+
		`"emails":[{"value":"ann@example.com","primary":true}],"active":true,"password":"hunter2hunter2"}`)
	createUser(t, e.st, d.ID, `{"userName":"bob","active":false}`)
	gr, err := resource.Decode(schema.NewRegistry().ResourceType("Group"), []byte(`{"displayName":"staff","members":[{"value":"`+u.ID()+`"}]}`), resource.Options{})
	if err != nil {
		t.Fatal(err)
	}
	g, err := e.st.Create(ctx, d.ID, gr)
	if err != nil {
		t.Fatal(err)
	}
	dir := "/ui/directories/" + d.ID
	for _, c := range []struct {
		path string
		want []string
		not  []string
	}{
		{"/ui/", []string{"acme&lt;b&gt;", "/scim/v2"}, []string{"acme<b>"}},
		{dir, []string{"2 users</a> (1 active)", "1 groups", "No tokens yet"}, nil},
		{dir + "/users", []string{"&lt;img src=x onerror=alert(1)&gt;", "bob", "page 1 of 1 (2)"}, []string{xss}},
		{dir + "/users?q=ann%40example", []string{"ann@example.com"}, []string{">bob<"}},
		{dir + "/users?q=Lee", []string{"ann@example.com"}, []string{">bob<"}},
		{dir + "/users?q=ext-1", []string{"ann@example.com"}, []string{">bob<"}},
		{dir + "/users?q=BO", []string{">bob<", "Search inside names and emails too"}, []string{"ann@example.com"}},
		{dir + "/users?q=nn%40&full=1", []string{"ann@example.com"}, []string{">bob<", "Search inside names"}},
		{dir + "/users?q=%22%29+or+true", []string{"No user matches."}, nil},
		{dir + "/users?active=false", []string{">bob<"}, []string{"ann@example.com"}},
		{dir + "/users/" + u.ID(), []string{"&lt;img src=x onerror=alert(1)&gt;", "user.created", "staff", "Raw SCIM JSON"}, []string{xss, "hunter2", "pbkdf2"}},
		{dir + "/groups", []string{"staff", "<td>1</td>"}, nil},
		{dir + "/groups/" + g.ID(), []string{"&lt;img src=x onerror=alert(1)&gt;", "group.created"}, []string{xss}},
		{"/ui/requests?status=4xx&method=PATCH&since=2026-01-01T00:00&until=2099-01-01", []string{"No requests match."}, nil},
		{"/ui/live?directory=" + d.ID, []string{"/ui/live/stream?directory=" + d.ID}, nil},
	} {
		p := b.get(c.path).must(t, 200)
		for _, w := range c.want {
			if !strings.Contains(p.body, w) {
				t.Errorf("GET %s lacks %q:\n%s", c.path, w, p.body)
			}
		}
		for _, n := range c.not {
			if strings.Contains(p.body, n) {
				t.Errorf("GET %s holds %q", c.path, n)
			}
		}
	}
	b.get(dir+"/users/nosuch").must(t, 404)
	b.get("/ui/directories/nosuch").must(t, 404)
	b.get("/ui/requests?since=yesterday").must(t, 400)
}

func TestATokensSecretIsShownOnceAndRevokingItShutsSCIMOut(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	ctx := context.Background()
	b := e.login(t, e.client)
	d := e.createDirectory(t, "acme")
	dir := "/ui/directories/" + d.ID
	csrf := b.get(dir).must(t, 200).csrf(t)
	p := b.post(dir+"/tokens", url.Values{"csrf": {csrf}, "name": {"okta"}}).must(t, http.StatusCreated)
	secret := regexp.MustCompile(`rst_[A-Za-z0-9_-]+`).FindString(p.body)
	if secret == "" {
		t.Fatalf("the new token's secret is not shown:\n%s", p.body)
	}
	if again := b.get(dir).must(t, 200); strings.Contains(again.body, secret) {
		t.Fatal("the secret is shown a second time")
	}
	scim := func() int {
		req, _ := http.NewRequest("GET", e.url+"/scim/v2/Users", nil)
		req.Header.Set("Authorization", "Bearer "+secret)
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	if s := scim(); s != 200 {
		t.Fatalf("the new token got %d", s)
	}
	toks, _ := e.st.Tokens(ctx, d.ID)
	b.post(dir+"/tokens/"+toks[0].ID+"/revoke", url.Values{"csrf": {csrf}}).must(t, http.StatusSeeOther)
	if p := b.get(dir).must(t, 200); !strings.Contains(p.body, "revoked") {
		t.Error("the token is not shown revoked")
	}
	// The server caches a valid token for TokenCacheTTL (2 s): wait for
	// the revocation to take.
	deadline := time.Now().Add(10 * time.Second)
	for scim() != 401 {
		if time.Now().After(deadline) {
			t.Fatal("SCIM still takes the revoked token")
		}
		time.Sleep(50 * time.Millisecond)
	}
	p = b.post(dir+"/clients", url.Values{"csrf": {csrf}, "name": {"entra"}}).must(t, http.StatusCreated)
	if !strings.Contains(p.body, "shown this once") {
		t.Errorf("the new client's secret is not shown:\n%s", p.body)
	}
	clients, _ := e.st.Clients(ctx, d.ID)
	b.post(dir+"/clients/"+clients[0].ID+"/revoke", url.Values{"csrf": {csrf}}).must(t, http.StatusSeeOther)
	if clients, _ := e.st.Clients(ctx, d.ID); !clients[0].Revoked {
		t.Error("the client was not revoked")
	}
	b.post(dir+"/delete", url.Values{"csrf": {csrf}, "confirm": {"wrong"}}).must(t, http.StatusBadRequest)
	b.post(dir+"/delete", url.Values{"csrf": {csrf}, "confirm": {"acme"}}).must(t, http.StatusSeeOther)
	if _, err := e.st.Directory(ctx, d.ID); err == nil {
		t.Error("the directory was not deleted")
	}
}

func TestTheRequestLogShowsSCIMRequestsByFilter(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	ctx := context.Background()
	b := e.login(t, e.client)
	d := e.createDirectory(t, "acme")
	_, secret, err := e.st.CreateToken(ctx, d.ID, "okta", time.Time{})
	if err != nil {
		t.Fatal(err)
	}
	send := func(method, path, body string) {
		req, _ := http.NewRequest(method, e.url+path, strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+secret)
		req.Header.Set("Content-Type", "application/scim+json")
		resp, err := e.client.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
	}
	send("POST", "/scim/v2/Users", `{"userName":"ann"}`)
	send("GET", "/scim/v2/Users/nosuch", "")
	// The log is written in batches, off the request path: wait for both.
	deadline := time.Now().Add(10 * time.Second)
	for {
		reqs, err := e.st.Requests(ctx, store.RequestQuery{Directory: d.ID, Limit: 10})
		if err != nil {
			t.Fatal(err)
		}
		if len(reqs) == 2 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("the log holds %d requests, want 2", len(reqs))
		}
		time.Sleep(10 * time.Millisecond)
	}
	p := b.get("/ui/requests?directory="+d.ID+"&status=4xx").must(t, 200)
	if !strings.Contains(p.body, "/scim/v2/Users/nosuch") || strings.Contains(p.body, "<td>POST</td>") || !strings.Contains(p.body, "okta") {
		t.Errorf("the 4xx requests:\n%s", p.body)
	}
	p = b.get("/ui/requests?method=POST").must(t, 200)
	if !strings.Contains(p.body, "<td>POST</td>") || strings.Contains(p.body, "nosuch") {
		t.Errorf("the POST requests:\n%s", p.body)
	}
	if p := b.get("/ui/directories/"+d.ID).must(t, 200); strings.Contains(p.body, "(last: never)") {
		t.Errorf("the directory's last request is not shown:\n%s", p.body)
	}
}

func TestTheLiveFeedStreamsChangesAsTheyCommit(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{}, false)
	ctx := context.Background()
	b := e.login(t, e.client)
	d := e.createDirectory(t, "acme")
	for _, path := range []string{"/ui/live/stream?directory=" + d.ID, "/ui/live/stream"} {
		sctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		req, _ := http.NewRequestWithContext(sctx, "GET", e.url+path, nil)
		resp, err := b.http.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "text/event-stream" {
			t.Fatalf("%s: %d %s", path, resp.StatusCode, resp.Header.Get("Content-Type"))
		}
		lines := make(chan string)
		go func() {
			defer close(lines)
			r := bufio.NewReader(resp.Body)
			for {
				line, err := r.ReadString('\n')
				if err != nil {
					return
				}
				lines <- line
			}
		}()
		<-lines // the stream's first comment
		// A directory's stream starts after the seq it read before that
		// comment; the stream of all directories from what it reads once
		// it follows, a moment later: a change until one is seen.
		prefix := "user-" + strings.ReplaceAll(path, "/", "-")
		n := 0
		create := func() {
			n++
			createUser(t, e.st, d.ID, `{"userName":"`+prefix+strconv.Itoa(n)+`"}`)
		}
		create()
		tick := time.NewTicker(200 * time.Millisecond)
	read:
		for {
			select {
			case line, ok := <-lines:
				if !ok {
					t.Fatalf("%s: the stream ended", path)
				}
				if strings.HasPrefix(line, "data: ") && strings.Contains(line, prefix) {
					if !strings.Contains(line, `"type":"user.created"`) {
						t.Errorf("%s: %s", path, line)
					}
					if strings.Contains(path, "directory=") && !strings.Contains(line, prefix+"1") {
						t.Errorf("%s: the first change seen is %s", path, line)
					}
					break read
				}
			case <-tick.C:
				if !strings.Contains(path, "directory=") {
					create()
				}
			}
		}
		tick.Stop()
		resp.Body.Close()
	}
}

func TestTheSessionCookieIsSecureBehindATLSProxy(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{SCIMBaseURL: "https://scim.example.com/scim/v2"}, false)
	link := e.setupLink(t)
	b := e.browser(t, e.client)
	p := b.get("/ui/setup?token="+url.QueryEscape(link)).must(t, 200)
	// The jar keeps the form's Secure cookie from plain HTTP; send it by hand.
	form := url.Values{"csrf": {p.csrf(t)}, "token": {link}, "password": {testPassword}, "confirm": {testPassword}}
	req, _ := http.NewRequest("POST", e.url+"/ui/setup", strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.AddCookie(&http.Cookie{Name: "roster_form", Value: p.csrf(t)})
	resp, err := b.http.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusSeeOther {
		t.Fatalf("setup: %d", resp.StatusCode)
	}
	if c := sessionCookie(t, page{header: resp.Header}); !c.Secure {
		t.Errorf("behind a TLS proxy (an https base URL) the session cookie is %+v, want Secure", c)
	}
}

// TestPagesPastTheQueryBudget: with a budget nothing fits in, counts show
// as "many" rather than failing their page, and a list of users says what
// to search by instead.
func TestPagesPastTheQueryBudget(t *testing.T) {
	t.Parallel()
	e := newEnv(t, console.Config{QueryBudget: time.Nanosecond}, false)
	b := e.login(t, e.client)
	d := e.createDirectory(t, "acme")
	createUser(t, e.st, d.ID, `{"userName":"ann","active":true}`)
	for _, path := range []string{"/ui/", "/ui/directories/" + d.ID} {
		if p := b.get(path).must(t, 200); !strings.Contains(p.body, "many") {
			t.Errorf("GET %s does not show its counts as many:\n%s", path, p.body)
		}
	}
	p := b.get("/ui/directories/"+d.ID+"/users?q=nn&full=1").must(t, 400)
	if !strings.Contains(p.body, "Search by the start of a user name") {
		t.Errorf("a search past the budget does not say what to search by:\n%s", p.body)
	}
}
