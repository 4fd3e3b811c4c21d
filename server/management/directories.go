package management

import (
	"net/http"
	"strings"
	"time"

	"github.com/rosterhq/roster/store"
)

// directoryJSON is a directory as the API shows it.
type directoryJSON struct {
	ID      string    `json:"id"`
	Name    string    `json:"name"`
	Created time.Time `json:"created"`
	// SCIMBaseURL is the URL to give the identity provider.
	SCIMBaseURL string `json:"scim_base_url"`
}

func (a *api) directoryJSON(r *http.Request, d store.Directory) directoryJSON {
	return directoryJSON{ID: d.ID, Name: d.Name, Created: d.Created.UTC(), SCIMBaseURL: a.scimBase(r)}
}

// maxNameBytes bounds the names of directories, tokens and clients.
const maxNameBytes = 200

// checkName refuses a name that is empty, too long or not printable.
func checkName(what, name string) error {
	switch {
	case strings.TrimSpace(name) == "":
		return errorf(http.StatusBadRequest, "%s: a name is required", what)
	case len(name) > maxNameBytes:
		return errorf(http.StatusBadRequest, "%s: the name is over %d bytes", what, maxNameBytes)
	case strings.ContainsFunc(name, func(r rune) bool { return r < 0x20 || r == 0x7f }):
		return errorf(http.StatusBadRequest, "%s: the name holds control characters", what)
	}
	return nil
}

func (a *api) listDirectories(w http.ResponseWriter, r *http.Request) error {
	dirs, err := a.Store.Directories(r.Context())
	if err != nil {
		return err
	}
	out := make([]directoryJSON, len(dirs))
	for i, d := range dirs {
		out[i] = a.directoryJSON(r, d)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (a *api) createDirectory(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := checkName("directory", req.Name); err != nil {
		return err
	}
	d, err := a.Store.CreateDirectory(r.Context(), req.Name)
	if err != nil {
		return err
	}
	a.OnChange()
	writeJSON(w, http.StatusCreated, a.directoryJSON(r, d))
	return nil
}

func (a *api) getDirectory(w http.ResponseWriter, r *http.Request) error {
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, a.directoryJSON(r, d))
	return nil
}

func (a *api) deleteDirectory(w http.ResponseWriter, r *http.Request) error {
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	if err := a.Store.DeleteDirectory(r.Context(), d.ID); err != nil {
		return err
	}
	a.OnChange()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// tokenJSON is a SCIM token as the API shows it; Token (the secret) only
// in the answer that creates it.
type tokenJSON struct {
	ID        string     `json:"id"`
	Name      string     `json:"name"`
	Directory string     `json:"directory"`
	Created   time.Time  `json:"created"`
	Expires   *time.Time `json:"expires,omitempty"`
	LastUsed  *time.Time `json:"last_used,omitempty"`
	Revoked   bool       `json:"revoked"`
	Token     string     `json:"token,omitempty"`
	// SCIMBaseURL is where the token works, on create.
	SCIMBaseURL string `json:"scim_base_url,omitempty"`
}

func optTime(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	t = t.UTC()
	return &t
}

func toTokenJSON(t store.Token) tokenJSON {
	return tokenJSON{ID: t.ID, Name: t.Name, Directory: t.DirectoryID, Created: t.Created.UTC(),
		Expires: optTime(t.Expires), LastUsed: optTime(t.LastUsed), Revoked: t.Revoked}
}

func (a *api) listTokens(w http.ResponseWriter, r *http.Request) error {
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	tokens, err := a.Store.Tokens(r.Context(), d.ID)
	if err != nil {
		return err
	}
	out := make([]tokenJSON, len(tokens))
	for i, t := range tokens {
		out[i] = toTokenJSON(t)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (a *api) createToken(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
		// ExpiresIn is the token's lifetime in seconds; 0: it does not
		// expire.
		ExpiresIn int64 `json:"expires_in"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := checkName("token", req.Name); err != nil {
		return err
	}
	const maxLifetime = 10 * 365 * 24 * 3600
	if req.ExpiresIn < 0 || req.ExpiresIn > maxLifetime {
		return errorf(http.StatusBadRequest, "expires_in is seconds from now, between 1 and %d (0: never)", maxLifetime)
	}
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	var expires time.Time
	if req.ExpiresIn > 0 {
		expires = time.Now().Add(time.Duration(req.ExpiresIn) * time.Second)
	}
	t, secret, err := a.Store.CreateToken(r.Context(), d.ID, req.Name, expires)
	if err != nil {
		return err
	}
	a.OnChange()
	out := toTokenJSON(t)
	out.Token, out.SCIMBaseURL = secret, a.scimBase(r)
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *api) revokeToken(w http.ResponseWriter, r *http.Request) error {
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	if err := a.Store.RevokeToken(r.Context(), d.ID, r.PathValue("id")); err != nil {
		return err
	}
	a.OnChange()
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// clientJSON is an OAuth 2.0 client as the API shows it; Secret only in
// the answer that creates it.
type clientJSON struct {
	ID        string    `json:"id"`
	Name      string    `json:"name"`
	Directory string    `json:"directory"`
	Created   time.Time `json:"created"`
	Revoked   bool      `json:"revoked"`
	Secret    string    `json:"secret,omitempty"`
	TokenURL  string    `json:"token_url,omitempty"`
}

func toClientJSON(c store.Client) clientJSON {
	return clientJSON{ID: c.ID, Name: c.Name, Directory: c.DirectoryID, Created: c.Created.UTC(), Revoked: c.Revoked}
}

func (a *api) listClients(w http.ResponseWriter, r *http.Request) error {
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	clients, err := a.Store.Clients(r.Context(), d.ID)
	if err != nil {
		return err
	}
	out := make([]clientJSON, len(clients))
	for i, c := range clients {
		out[i] = toClientJSON(c)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (a *api) createClient(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		Name string `json:"name"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := checkName("client", req.Name); err != nil {
		return err
	}
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	c, secret, err := a.Store.CreateClient(r.Context(), d.ID, req.Name)
	if err != nil {
		return err
	}
	a.OnChange()
	out := toClientJSON(c)
	out.Secret = secret
	out.TokenURL = strings.TrimSuffix(a.scimBase(r), "/scim/v2") + "/oauth/token"
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *api) revokeClient(w http.ResponseWriter, r *http.Request) error {
	d, err := a.directory(r)
	if err != nil {
		return err
	}
	if err := a.Store.RevokeClient(r.Context(), d.ID, r.PathValue("id")); err != nil {
		return err
	}
	a.OnChange()
	w.WriteHeader(http.StatusNoContent)
	return nil
}
