package console

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/rosterhq/roster/store"
)

// webhookRow is a webhook as the lists show it, with its health: the
// status of its last attempt and how many events it gave up on.
type webhookRow struct {
	store.Webhook
	Last        *store.DeliveryAttempt
	DeadLetters int
}

// Healthy reports whether the webhook's last delivery succeeded (or none
// was tried) and it gave up on nothing.
func (w webhookRow) Healthy() bool {
	return w.Enabled && w.DeadLetters == 0 && (w.Last == nil || w.Last.Status >= 200 && w.Last.Status < 300)
}

// receives reports whether the webhook receives the events of dir: its
// own directory's, or every directory's when it names none.
func (w webhookRow) receives(dir string) bool {
	return w.Directory == "" || w.Directory == dir
}

// deadLetterCap bounds the dead letters counted for a webhook's health.
const deadLetterCap = 100

// webhooksOf returns the webhooks that receive a directory's events
// (dir "" for all webhooks), with their health.
func (c *console) webhooksOf(r *http.Request, dir string) ([]webhookRow, error) {
	all, err := c.Store.Webhooks(r.Context())
	if err != nil {
		return nil, err
	}
	var out []webhookRow
	for _, w := range all {
		row := webhookRow{Webhook: w}
		if dir != "" && !row.receives(dir) {
			continue
		}
		last, err := c.Store.DeliveryAttempts(r.Context(), w.ID, 1)
		if err != nil {
			return nil, err
		}
		if len(last) > 0 {
			row.Last = &last[0]
		}
		dead, err := c.Store.DeadLetters(r.Context(), w.ID, deadLetterCap)
		if err != nil {
			return nil, err
		}
		row.DeadLetters = len(dead)
		out = append(out, row)
	}
	return out, nil
}

// webhook shows a webhook: its settings, where its delivery stands per
// directory, its recent attempts and its dead letters; redelivered, when
// set, are the attempts of a redelivery just made.
func (c *console) webhook(w http.ResponseWriter, r *http.Request, s *session) error {
	return c.showWebhook(w, r, s, nil, "")
}

func (c *console) showWebhook(w http.ResponseWriter, r *http.Request, s *session, redelivered []store.DeliveryAttempt, problem string) error {
	hook, err := c.Store.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	cursors, err := c.Store.WebhookCursors(r.Context(), hook.ID)
	if err != nil {
		return err
	}
	attempts, err := c.Store.DeliveryAttempts(r.Context(), hook.ID, 50)
	if err != nil {
		return err
	}
	dead, err := c.Store.DeadLetters(r.Context(), hook.ID, 50)
	if err != nil {
		return err
	}
	dirs, names, err := c.directoryNames(r)
	if err != nil {
		return err
	}
	status := http.StatusOK
	if problem != "" {
		status = http.StatusBadRequest
	}
	// The secret is never shown: the API and roster webhook rotate it.
	hook.Secret, hook.PreviousSecret = "", ""
	c.render(w, r, status, "webhook", s, map[string]any{"Hook": hook, "Cursors": cursors, "Attempts": attempts, "Dead": dead,
		"Names": names, "Directories": dirs, "CanRedeliver": c.Redeliver != nil, "Redelivered": redelivered, "Problem": problem,
		"Types": strings.Join(hook.Types, ", ")})
	return nil
}

// redeliver sends again the events of a directory with seqs from to to
// (one event: to empty) that a webhook receives, and shows the attempts.
func (c *console) redeliver(w http.ResponseWriter, r *http.Request, s *session) error {
	if c.Redeliver == nil {
		return pageError{http.StatusNotImplemented, "This server does not deliver webhooks."}
	}
	hook, err := c.Store.Webhook(r.Context(), r.PathValue("id"))
	if err != nil {
		return err
	}
	d, err := c.Store.Directory(r.Context(), r.PostForm.Get("directory"))
	if errors.Is(err, store.ErrNotFound) {
		return c.showWebhook(w, r, s, nil, "Choose the directory whose events to send again.")
	}
	if err != nil {
		return err
	}
	from, err1 := strconv.ParseInt(strings.TrimSpace(r.PostForm.Get("from")), 10, 64)
	to, err2 := from, error(nil)
	if t := strings.TrimSpace(r.PostForm.Get("to")); t != "" {
		to, err2 = strconv.ParseInt(t, 10, 64)
	}
	if err1 != nil || err2 != nil || from < 1 || to < from || to-from >= 1000 {
		return c.showWebhook(w, r, s, nil, "Give the seq of an event, or a range of at most 1,000 (from ≤ to).")
	}
	attempts, err := c.Redeliver(r.Context(), hook.ID, d.ID, from, to)
	if err != nil && len(attempts) == 0 {
		return c.showWebhook(w, r, s, nil, fmt.Sprintf("The redelivery failed: %v.", err))
	}
	return c.showWebhook(w, r, s, attempts, "")
}
