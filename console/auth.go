package console

import (
	"crypto/rand"
	"crypto/subtle"
	"encoding/hex"
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/rosterhq/roster/store"
)

// formToken returns the login and setup forms' CSRF token, setting it as
// a cookie that the form must echo (a double submit: before a session
// there is nothing else to derive it from).
func (c *console) formToken(w http.ResponseWriter, r *http.Request) string {
	if ck, err := r.Cookie(formCookie); err == nil && len(ck.Value) == 32 {
		return ck.Value
	}
	var b [16]byte
	rand.Read(b[:])
	tok := hex.EncodeToString(b[:])
	c.setCookie(w, r, formCookie, tok, 0)
	return tok
}

// formTokenOK reports whether a login or setup form echoes its cookie.
func formTokenOK(r *http.Request) bool {
	ck, err := r.Cookie(formCookie)
	return err == nil && ck.Value != "" && subtle.ConstantTimeCompare([]byte(ck.Value), []byte(r.PostForm.Get("csrf"))) == 1
}

func (c *console) loginPage(w http.ResponseWriter, r *http.Request) {
	c.render(w, r, http.StatusOK, "login", nil, map[string]any{"CSRF": c.formToken(w, r), "Next": safeNext(r.URL.Query().Get("next"))})
}

// login checks an admin's name and password and starts a session.
// Attempts are limited per client address; a wrong name or password is a
// 401 that does not say which.
func (c *console) login(w http.ResponseWriter, r *http.Request) {
	if ok, wait := c.logins.allow(clientAddr(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		c.render(w, r, http.StatusTooManyRequests, "login", nil, map[string]any{"CSRF": c.formToken(w, r),
			"Error": fmt.Sprintf("Too many login attempts from your address: wait %s and try again.", wait.Round(time.Second))})
		return
	}
	if err := r.ParseForm(); err != nil || !formTokenOK(r) {
		c.render(w, r, http.StatusForbidden, "login", nil, map[string]any{"CSRF": c.formToken(w, r),
			"Error": "The form was refused: its CSRF token is missing or wrong. Try again."})
		return
	}
	name, password, next := r.PostForm.Get("name"), r.PostForm.Get("password"), safeNext(r.PostForm.Get("next"))
	admin, hash, err := c.Store.AdminPassword(r.Context(), name)
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		c.fail(w, r, nil, err)
		return
	}
	if hash == "" {
		hash = c.dummyHash()
	}
	ok, err := checkPassword(hash, password)
	if err != nil {
		c.fail(w, r, nil, fmt.Errorf("console: admin %q: %w", name, err))
		return
	}
	if !ok || admin.ID == "" || !admin.HasPassword {
		c.render(w, r, http.StatusUnauthorized, "login", nil, map[string]any{"CSRF": c.formToken(w, r), "Next": next, "Name": name,
			"Error": "Wrong name or password."})
		return
	}
	c.startSession(w, r, admin, next)
}

func (c *console) startSession(w http.ResponseWriter, r *http.Request, admin store.Admin, next string) {
	secret, err := c.Store.CreateSession(r.Context(), admin.ID, time.Now().Add(c.SessionTTL))
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.setCookie(w, r, sessionCookie, secret, int(c.SessionTTL.Seconds()))
	c.setCookie(w, r, formCookie, "", -1)
	http.Redirect(w, r, next, http.StatusSeeOther)
}

func (c *console) logout(w http.ResponseWriter, r *http.Request, s *session) error {
	if err := c.Store.DeleteSession(r.Context(), s.secret); err != nil {
		return err
	}
	c.setCookie(w, r, sessionCookie, "", -1)
	http.Redirect(w, r, BasePath+"/login", http.StatusSeeOther)
	return nil
}

// setupPage shows the form of a one-time setup link.
func (c *console) setupPage(w http.ResponseWriter, r *http.Request) {
	token := r.URL.Query().Get("token")
	admin, err := c.Store.AdminBySetup(r.Context(), token)
	if errors.Is(err, store.ErrUnauthorized) {
		c.render(w, r, http.StatusUnauthorized, "error", nil, map[string]any{"Error": "This setup link is unknown, used or expired. " +
			"Ask for a new one: roster admin reset NAME."})
		return
	}
	if err != nil {
		c.fail(w, r, nil, err)
		return
	}
	c.render(w, r, http.StatusOK, "setup", nil, map[string]any{"CSRF": c.formToken(w, r), "Token": token, "Admin": admin})
}

// setup sets the password of the admin of a setup link, spends the link
// and logs the admin in.
func (c *console) setup(w http.ResponseWriter, r *http.Request) {
	if ok, wait := c.logins.allow(clientAddr(r)); !ok {
		w.Header().Set("Retry-After", strconv.Itoa(int(math.Ceil(wait.Seconds()))))
		c.render(w, r, http.StatusTooManyRequests, "error", nil, map[string]any{"Error": "Too many attempts from your address: wait and try again."})
		return
	}
	if err := r.ParseForm(); err != nil || !formTokenOK(r) {
		c.render(w, r, http.StatusForbidden, "error", nil, map[string]any{"Error": "The form was refused: its CSRF token is missing or wrong. Open the link again."})
		return
	}
	token, password := r.PostForm.Get("token"), r.PostForm.Get("password")
	admin, err := c.Store.AdminBySetup(r.Context(), token)
	if err != nil {
		c.setupFailed(w, r, err)
		return
	}
	problem := ""
	if password != r.PostForm.Get("confirm") {
		problem = "The two passwords differ."
	}
	hash, err := HashPassword(password)
	if problem == "" && err != nil {
		problem = err.Error() + "."
	}
	if problem != "" {
		c.render(w, r, http.StatusBadRequest, "setup", nil, map[string]any{"CSRF": c.formToken(w, r), "Token": token, "Admin": admin, "Error": problem})
		return
	}
	admin, err = c.Store.UseAdminSetup(r.Context(), token, hash)
	if err != nil {
		c.setupFailed(w, r, err)
		return
	}
	c.startSession(w, r, admin, BasePath+"/")
}

// setupFailed answers a setup form whose link the store refused: a 401
// when the link is unknown, used or expired (the form may have been
// sent twice, or raced another), else the error.
func (c *console) setupFailed(w http.ResponseWriter, r *http.Request, err error) {
	if errors.Is(err, store.ErrUnauthorized) {
		c.render(w, r, http.StatusUnauthorized, "error", nil, map[string]any{"Error": "This setup link is unknown, used or expired."})
		return
	}
	c.fail(w, r, nil, err)
}
