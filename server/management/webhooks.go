package management

import (
	"errors"
	"net/http"
	"strconv"
	"time"

	"github.com/rosterhq/roster/store"
	"github.com/rosterhq/roster/webhook"
)

// webhookRotationOverlap is how long a rotated secret still signs beside
// the new one.
const webhookRotationOverlap = 24 * time.Hour

// webhookJSON is a webhook as the API shows it; Secret only in the
// answers that make one (create, rotate).
type webhookJSON struct {
	ID  string `json:"id"`
	URL string `json:"url"`
	// Directory is the directory's id, absent for all directories.
	Directory string    `json:"directory,omitempty"`
	Types     []string  `json:"types"`
	Enabled   bool      `json:"enabled"`
	Disabled  string    `json:"disabled_reason,omitempty"`
	Created   time.Time `json:"created"`
	Secret    string    `json:"secret,omitempty"`
}

func toWebhookJSON(w store.Webhook) webhookJSON {
	types := w.Types
	if types == nil {
		types = []string{}
	}
	return webhookJSON{ID: w.ID, URL: w.URL, Directory: w.Directory, Types: types, Enabled: w.Enabled,
		Disabled: w.Disabled, Created: w.Created.UTC()}
}

// checkWebhook refuses a URL that is not a public http(s) URL (unless
// private ones are allowed) and a type that is no event type.
func (a *api) checkWebhook(r *http.Request, url *string, types *[]string) error {
	if url != nil {
		if err := webhook.CheckURL(r.Context(), *url, a.AllowPrivateWebhooks); err != nil {
			return errorf(http.StatusBadRequest, "url: %v", err)
		}
	}
	if types != nil {
		for _, t := range *types {
			if !store.IsEventType(t) {
				return errorf(http.StatusBadRequest, "types: %q is not an event type", t)
			}
		}
	}
	return nil
}

func (a *api) createWebhook(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		URL       string   `json:"url"`
		Directory string   `json:"directory"`
		Types     []string `json:"types"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.checkWebhook(r, &req.URL, &req.Types); err != nil {
		return err
	}
	if req.Directory != "" {
		d, err := a.Store.Directory(r.Context(), req.Directory)
		if errors.Is(err, store.ErrNotFound) {
			return errorf(http.StatusNotFound, "no directory %q", req.Directory)
		}
		if err != nil {
			return err
		}
		req.Directory = d.ID
	}
	hook, err := a.Store.CreateWebhook(r.Context(), store.WebhookSpec{URL: req.URL, Directory: req.Directory, Types: req.Types})
	if err != nil {
		return err
	}
	out := toWebhookJSON(hook)
	out.Secret = hook.Secret
	writeJSON(w, http.StatusCreated, out)
	return nil
}

func (a *api) listWebhooks(w http.ResponseWriter, r *http.Request) error {
	hooks, err := a.Store.Webhooks(r.Context())
	if err != nil {
		return err
	}
	out := make([]webhookJSON, len(hooks))
	for i, h := range hooks {
		out[i] = toWebhookJSON(h)
	}
	writeJSON(w, http.StatusOK, map[string]any{"data": out})
	return nil
}

func (a *api) getWebhook(w http.ResponseWriter, r *http.Request) error {
	hook, err := a.Store.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(hook))
	return nil
}

func (a *api) updateWebhook(w http.ResponseWriter, r *http.Request) error {
	var req struct {
		URL     *string   `json:"url"`
		Types   *[]string `json:"types"`
		Enabled *bool     `json:"enabled"`
	}
	if err := decode(w, r, &req); err != nil {
		return err
	}
	if err := a.checkWebhook(r, req.URL, req.Types); err != nil {
		return err
	}
	hook, err := a.Store.UpdateWebhook(r.Context(), r.PathValue("id"), store.WebhookUpdate{URL: req.URL, Types: req.Types, Enabled: req.Enabled})
	if err != nil {
		return err
	}
	if req.Enabled != nil && *req.Enabled {
		a.OnChange() // delivery resumes
	}
	writeJSON(w, http.StatusOK, toWebhookJSON(hook))
	return nil
}

func (a *api) rotateWebhook(w http.ResponseWriter, r *http.Request) error {
	hook, err := a.Store.RotateWebhookSecret(r.Context(), r.PathValue("id"), webhookRotationOverlap)
	if err != nil {
		return err
	}
	out := toWebhookJSON(hook)
	out.Secret = hook.Secret
	writeJSON(w, http.StatusOK, out)
	return nil
}

func (a *api) deleteWebhook(w http.ResponseWriter, r *http.Request) error {
	if err := a.Store.DeleteWebhook(r.Context(), r.PathValue("id")); err != nil {
		return err
	}
	w.WriteHeader(http.StatusNoContent)
	return nil
}

// attemptJSON is an attempt of the delivery log.
type attemptJSON struct {
	Directory  string    `json:"directory"`
	Event      string    `json:"event"`
	Seq        int64     `json:"seq"`
	Attempt    int       `json:"attempt"`
	Time       time.Time `json:"time"`
	Status     int       `json:"status,omitempty"`
	DurationMS float64   `json:"duration_ms"`
	Error      string    `json:"error,omitempty"`
	Manual     bool      `json:"manual,omitempty"`
}

// deadLetterJSON is an event a webhook gave up on.
type deadLetterJSON struct {
	Directory string    `json:"directory"`
	Event     string    `json:"event"`
	Seq       int64     `json:"seq"`
	Time      time.Time `json:"time"`
	Status    int       `json:"status,omitempty"`
	Error     string    `json:"error"`
	Attempts  int       `json:"attempts"`
}

// maxDeliveries bounds ?limit= of the delivery log.
const maxDeliveries = 1000

// webhookDeliveries answers the delivery log, newest first, and the dead
// letters: GET /webhooks/{id}/deliveries?limit=N.
func (a *api) webhookDeliveries(w http.ResponseWriter, r *http.Request) error {
	limit := 100
	if s := r.URL.Query().Get("limit"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > maxDeliveries {
			return errorf(http.StatusBadRequest, "limit must be a number from 1 to %d", maxDeliveries)
		}
		limit = n
	}
	id := r.PathValue("id")
	if _, err := a.Store.Webhook(r.Context(), id); err != nil {
		return err
	}
	attempts, err := a.Store.DeliveryAttempts(r.Context(), id, limit)
	if err != nil {
		return err
	}
	dead, err := a.Store.DeadLetters(r.Context(), id, limit)
	if err != nil {
		return err
	}
	out := struct {
		Data        []attemptJSON    `json:"data"`
		DeadLetters []deadLetterJSON `json:"dead_letters"`
	}{Data: make([]attemptJSON, len(attempts)), DeadLetters: make([]deadLetterJSON, len(dead))}
	for i, t := range attempts {
		out.Data[i] = attemptJSON{Directory: t.Directory, Event: t.Event, Seq: t.Seq, Attempt: t.Attempt, Time: t.Time.UTC(),
			Status: t.Status, DurationMS: float64(t.Duration.Microseconds()) / 1000, Error: t.Error, Manual: t.Manual}
	}
	for i, d := range dead {
		out.DeadLetters[i] = deadLetterJSON{Directory: d.Directory, Event: d.Event, Seq: d.Seq, Time: d.Time.UTC(),
			Status: d.Status, Error: d.Error, Attempts: d.Attempts}
	}
	writeJSON(w, http.StatusOK, out)
	return nil
}
