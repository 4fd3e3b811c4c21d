package sqlstore

import (
	"context"
	"crypto/rand"
	"database/sql"
	"encoding/base64"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim"
	"github.com/rosterhq/roster/store"
)

// WebhookSecretPrefix starts every webhook secret, as the Standard
// Webhooks specification has it.
const WebhookSecretPrefix = "whsec_"

// webhookColumns are what scanWebhook reads, in order.
const webhookColumns = `id, url, directory_id, types, enabled, disabled, created, secret, previous_secret, previous_until`

// webhookAD binds a sealed webhook secret to its webhook.
func webhookAD(id string) []byte { return []byte("roster webhook secret " + id) }

// newWebhookKey returns a new webhook key: keyBytes random bytes, so that
// sealFor and openFor keep it as they keep a signing key.
func newWebhookKey() []byte {
	k := make([]byte, keyBytes)
	rand.Read(k)
	return k
}

func webhookSecret(key []byte) string {
	return WebhookSecretPrefix + base64.StdEncoding.EncodeToString(key)
}

// checkTypes returns a 400 error for a type that is no event type.
func checkTypes(types []string) error {
	for _, t := range types {
		if !store.IsEventType(t) {
			return scim.BadRequest(scim.InvalidValue, "%q is not an event type (one of %s)", t, strings.Join(store.EventTypes, ", "))
		}
	}
	return nil
}

// typesJSON is the stored form of a list of event types: sorted, each
// once, '[]' for all.
func typesJSON(types []string) string {
	t := slices.Compact(slices.Sorted(slices.Values(types)))
	if t == nil {
		t = []string{}
	}
	b, _ := json.Marshal(t) // strings always encode
	return string(b)
}

// CreateWebhook implements store.Webhooks. The cursors of the
// directories that exist start at their last event; CreateDirectory
// makes those of a directory made later, from its first. On PostgreSQL a
// webhook for all directories holds directories from being made while it
// is, so that no directory is made in between with no cursor.
func (s *Store) CreateWebhook(ctx context.Context, spec store.WebhookSpec) (store.Webhook, error) {
	what := fmt.Sprintf("create webhook %q", spec.URL)
	if err := s.checkText(append([]string{spec.URL, spec.Directory}, spec.Types...)...); err != nil {
		return store.Webhook{}, err
	}
	if err := checkTypes(spec.Types); err != nil {
		return store.Webhook{}, err
	}
	w := store.Webhook{ID: "wh_" + strings.ReplaceAll(store.NewID(), "-", ""), URL: spec.URL, Enabled: true, Created: s.d.Now()}
	if err := json.Unmarshal([]byte(typesJSON(spec.Types)), &w.Types); err != nil {
		return store.Webhook{}, err
	}
	if len(w.Types) == 0 {
		w.Types = nil
	}
	if spec.Directory != "" {
		d, err := s.Directory(ctx, spec.Directory)
		if err != nil {
			return store.Webhook{}, err
		}
		w.Directory = d.ID
	}
	key := newWebhookKey()
	w.Secret = webhookSecret(key)
	if err := s.d.NumberEvents(ctx, w.Directory); err != nil { // its cursors start at the last seq
		return store.Webhook{}, s.errorf(what, err)
	}
	err := s.d.InTx(ctx, func(tx Querier) error {
		if w.Directory == "" && s.sql.LockDirectories != "" {
			if _, err := tx.Exec(ctx, s.sql.LockDirectories); err != nil {
				return err
			}
		}
		_, err := tx.Exec(ctx, `INSERT INTO webhooks (id, url, directory_id, types, enabled, disabled, created, secret)
			VALUES ($1, $2, $3, $4, $5, '', $6, $7)`,
			w.ID, w.URL, nullString(w.Directory), typesJSON(w.Types), true, s.d.Time(w.Created), s.sealFor(webhookAD(w.ID), key))
		if err != nil {
			return err
		}
		var n int64
		if w.Directory != "" {
			n, err = tx.Exec(ctx, `INSERT INTO webhook_cursors (webhook_id, directory_id, seq, attempts, next_attempt)
				SELECT $1, d.id, `+lastSeq+`, 0, $2 FROM directories d WHERE d.id = $3`, w.ID, s.d.Time(w.Created), w.Directory)
			if err == nil && n == 0 {
				err = fmt.Errorf("directory %q: %w", w.Directory, store.ErrNotFound)
			}
		} else {
			_, err = tx.Exec(ctx, `INSERT INTO webhook_cursors (webhook_id, directory_id, seq, attempts, next_attempt)
				SELECT $1, d.id, `+lastSeq+`, 0, $2 FROM directories d`, w.ID, s.d.Time(w.Created))
		}
		return err
	})
	if err != nil {
		return store.Webhook{}, s.errorf(what, err)
	}
	return w, nil
}

// lastSeq is the seq of the newest committed event of the directory d,
// as LastEventSeq reads it: a webhook starts after it.
const lastSeq = `COALESCE((SELECT max(e.seq) FROM events e WHERE e.directory_id = d.id), 0)`

// addWebhookCursors makes, in the transaction that makes the directory
// dir, its cursors of the webhooks for all directories, from its first
// event.
func addWebhookCursors(ctx context.Context, tx Querier, d Dialect, dir string, now time.Time) error {
	_, err := tx.Exec(ctx, `INSERT INTO webhook_cursors (webhook_id, directory_id, seq, attempts, next_attempt)
		SELECT id, $1, 0, 0, $2 FROM webhooks WHERE directory_id IS NULL`, dir, d.Time(now))
	if err != nil {
		return fmt.Errorf("webhook cursors: %w", err)
	}
	return nil
}

// Webhook implements store.Webhooks.
func (s *Store) Webhook(ctx context.Context, id string) (store.Webhook, error) {
	what := fmt.Sprintf("webhook %q", id)
	if s.checkText(id) != nil {
		return store.Webhook{}, s.notFound(what)
	}
	w, clear, err := s.scanWebhook(s.d.Reader().QueryRow(ctx, `SELECT `+webhookColumns+` FROM webhooks WHERE id = $1`, id))
	if errors.Is(err, sql.ErrNoRows) {
		return w, s.notFound(what)
	}
	if err != nil {
		return w, s.errorf(what, err)
	}
	if clear && s.secret != nil {
		if err := s.sealWebhookSecrets(ctx, w); err != nil {
			return store.Webhook{}, err
		}
	}
	return w, nil
}

// sealWebhookSecrets seals the secrets of w, read in clear: a process
// without the secret key (a command run without it) made them.
func (s *Store) sealWebhookSecrets(ctx context.Context, w store.Webhook) error {
	seal := func(secret string) any {
		if secret == "" {
			return nil
		}
		key, _ := base64.StdEncoding.DecodeString(strings.TrimPrefix(secret, WebhookSecretPrefix))
		return s.sealFor(webhookAD(w.ID), key)
	}
	_, err := s.d.Writer().Exec(ctx, `UPDATE webhooks SET secret = $2, previous_secret = $3 WHERE id = $1`,
		w.ID, seal(w.Secret), seal(w.PreviousSecret))
	if err != nil {
		return s.errorf(fmt.Sprintf("encrypt the secret of webhook %q", w.ID), err)
	}
	return nil
}

// Webhooks implements store.Webhooks.
func (s *Store) Webhooks(ctx context.Context) ([]store.Webhook, error) {
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.Webhook, error) {
		w, _, err := s.scanWebhook(row)
		return w, err
	}, `SELECT `+webhookColumns+` FROM webhooks ORDER BY created, id`)
	if err != nil {
		return nil, s.errorf("list webhooks", err)
	}
	return out, nil
}

// scanWebhook reads a webhook, opening its secrets; clear says whether a
// secret was kept in clear.
func (s *Store) scanWebhook(row Row) (w store.Webhook, clear bool, err error) {
	var dir sql.NullString
	var types string
	var created, prevUntil Time
	var secret, prev []byte
	if err := row.Scan(&w.ID, &w.URL, &dir, &types, &w.Enabled, &w.Disabled, &created, &secret, &prev, &prevUntil); err != nil {
		return w, false, err
	}
	w.Directory, w.Created, w.PreviousUntil = dir.String, created.Time, prevUntil.Time
	if err := json.Unmarshal([]byte(types), &w.Types); err != nil {
		return w, false, fmt.Errorf("webhook %s: types: %w", w.ID, err)
	}
	if len(w.Types) == 0 {
		w.Types = nil
	}
	key, clear, err := s.openFor(webhookAD(w.ID), secret)
	if err != nil {
		return w, false, fmt.Errorf("webhook %s: secret: %w", w.ID, err)
	}
	w.Secret = webhookSecret(key)
	if prev != nil {
		key, c, err := s.openFor(webhookAD(w.ID), prev)
		if err != nil {
			return w, false, fmt.Errorf("webhook %s: previous secret: %w", w.ID, err)
		}
		w.PreviousSecret, clear = webhookSecret(key), clear || c
	}
	return w, clear, nil
}

// UpdateWebhook implements store.Webhooks.
func (s *Store) UpdateWebhook(ctx context.Context, id string, u store.WebhookUpdate) (store.Webhook, error) {
	what := fmt.Sprintf("update webhook %q", id)
	if u.URL != nil {
		if err := s.checkText(*u.URL); err != nil {
			return store.Webhook{}, err
		}
	}
	if u.Types != nil {
		if err := s.checkText(*u.Types...); err != nil {
			return store.Webhook{}, err
		}
		if err := checkTypes(*u.Types); err != nil {
			return store.Webhook{}, err
		}
	}
	if s.checkText(id) != nil {
		return store.Webhook{}, s.notFound(what)
	}
	err := s.d.InTx(ctx, func(tx Querier) error {
		var n int64
		var err error
		if u.URL != nil {
			if n, err = tx.Exec(ctx, `UPDATE webhooks SET url = $2 WHERE id = $1`, id, *u.URL); err != nil || n == 0 {
				return cmpErr(err, n)
			}
		}
		if u.Types != nil {
			if n, err = tx.Exec(ctx, `UPDATE webhooks SET types = $2 WHERE id = $1`, id, typesJSON(*u.Types)); err != nil || n == 0 {
				return cmpErr(err, n)
			}
		}
		if u.Enabled != nil {
			if n, err = tx.Exec(ctx, `UPDATE webhooks SET enabled = $2, disabled = '' WHERE id = $1`, id, *u.Enabled); err != nil || n == 0 {
				return cmpErr(err, n)
			}
		}
		return nil
	})
	if err != nil {
		return store.Webhook{}, s.errorf(what, err)
	}
	return s.Webhook(ctx, id)
}

// cmpErr is err, or store.ErrNotFound when a statement changed no row.
func cmpErr(err error, n int64) error {
	if err == nil && n == 0 {
		return store.ErrNotFound
	}
	return err
}

// RotateWebhookSecret implements store.Webhooks. The previous secret is
// kept as it is stored, sealed or not.
func (s *Store) RotateWebhookSecret(ctx context.Context, id string, overlap time.Duration) (store.Webhook, error) {
	what := fmt.Sprintf("rotate the secret of webhook %q", id)
	if s.checkText(id) != nil {
		return store.Webhook{}, s.notFound(what)
	}
	key := newWebhookKey()
	err := s.d.InTx(ctx, func(tx Querier) error {
		n, err := tx.Exec(ctx, `UPDATE webhooks SET previous_secret = secret, secret = $2, previous_until = $3 WHERE id = $1`,
			id, s.sealFor(webhookAD(id), key), s.d.Time(s.d.Now().Add(overlap)))
		return cmpErr(err, n)
	})
	if err != nil {
		return store.Webhook{}, s.errorf(what, err)
	}
	return s.Webhook(ctx, id)
}

// DeleteWebhook implements store.Webhooks.
func (s *Store) DeleteWebhook(ctx context.Context, id string) error {
	what := fmt.Sprintf("delete webhook %q", id)
	if s.checkText(id) != nil {
		return s.notFound(what)
	}
	n, err := s.d.Writer().Exec(ctx, `DELETE FROM webhooks WHERE id = $1`, id)
	if err = cmpErr(err, n); err != nil {
		return s.errorf(what, err)
	}
	return nil
}

// dueCursors selects the cursors a claim may take: of an enabled
// webhook, with an event after seq, due and not leased ($1 now), the
// longest due first, up to $2.
const dueCursors = `SELECT c.webhook_id, c.directory_id, c.seq, c.attempts FROM webhook_cursors c
	WHERE c.next_attempt <= $1 AND (c.lease_until IS NULL OR c.lease_until < $1)
	AND c.webhook_id IN (SELECT id FROM webhooks WHERE enabled)
	AND EXISTS (SELECT 1 FROM events e WHERE e.directory_id = c.directory_id AND e.seq > c.seq)
	ORDER BY c.next_attempt LIMIT $2`

func scanCursor(row Row) (store.WebhookCursor, error) {
	var c store.WebhookCursor
	err := row.Scan(&c.Webhook, &c.Directory, &c.Seq, &c.Attempts)
	return c, err
}

// ClaimWebhookCursors implements store.Webhooks. It looks for due cursors
// outside a transaction first, so that a worker polling an idle database
// takes no write lock. The claim's transaction then selects them again,
// on PostgreSQL FOR UPDATE SKIP LOCKED, so that claims running at once on
// several servers take different cursors, and sets their leases; on
// SQLite the one writer serializes claims.
func (s *Store) ClaimWebhookCursors(ctx context.Context, owner string, lease time.Duration, limit int) ([]store.WebhookCursor, error) {
	if err := s.d.NumberEvents(ctx, ""); err != nil {
		return nil, s.errorf("claim webhook cursors", err)
	}
	now := s.d.Now()
	limit = max(limit, 1)
	due, err := queryAll(ctx, s.d.Reader(), scanCursor, dueCursors, s.d.Time(now), limit)
	if err != nil {
		return nil, s.errorf("claim webhook cursors", err)
	}
	if len(due) == 0 {
		return nil, nil
	}
	until := now.Add(lease)
	err = s.d.InTx(ctx, func(tx Querier) error {
		var err error
		due, err = queryAll(ctx, tx, scanCursor, dueCursors+" "+s.sql.SkipLocked, s.d.Time(now), limit)
		if err != nil {
			return err
		}
		for i := range due {
			var b [8]byte
			rand.Read(b[:])
			due[i].Lease, due[i].LeaseUntil = owner+"/"+hex.EncodeToString(b[:]), until
			if _, err := tx.Exec(ctx, `UPDATE webhook_cursors SET lease = $3, lease_until = $4 WHERE webhook_id = $1 AND directory_id = $2`,
				due[i].Webhook, due[i].Directory, due[i].Lease, s.d.Time(until)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return nil, s.errorf("claim webhook cursors", err)
	}
	return due, nil
}

// ReportWebhookCursor implements store.Webhooks. A report whose lease was
// lost still logs its attempts (they were made), but changes nothing
// else.
func (s *Store) ReportWebhookCursor(ctx context.Context, c store.WebhookCursor, r store.CursorReport) error {
	now := s.d.Now()
	next := r.NextAttempt
	if next.IsZero() {
		next = now
	}
	var lease, until any
	if r.Keep > 0 {
		lease, until = c.Lease, s.d.Time(now.Add(r.Keep))
	}
	lost := false
	err := s.d.InTx(ctx, func(tx Querier) error {
		lost = false
		n, err := tx.Exec(ctx, `UPDATE webhook_cursors SET seq = $4, attempts = $5, next_attempt = $6, lease = $7, lease_until = $8
			WHERE webhook_id = $1 AND directory_id = $2 AND lease = $3`,
			c.Webhook, c.Directory, c.Lease, r.Seq, r.Tries, s.d.Time(next), lease, until)
		if err != nil {
			return err
		}
		if err := s.logAttempts(ctx, tx, r.Attempts); err != nil {
			return err
		}
		if n == 0 {
			lost = true
			return nil
		}
		for _, d := range r.DeadLetters {
			if _, err := tx.Exec(ctx, `INSERT INTO webhook_dead_letters (webhook_id, directory_id, seq, event_id, time, status, error, attempts)
				VALUES ($1, $2, $3, $4, $5, $6, $7, $8) ON CONFLICT DO NOTHING`,
				d.Webhook, d.Directory, d.Seq, d.Event, s.d.Time(d.Time), d.Status, d.Error, d.Attempts); err != nil {
				return err
			}
		}
		if r.Disable != "" {
			if _, err := tx.Exec(ctx, `UPDATE webhooks SET enabled = $2, disabled = $3 WHERE id = $1`, c.Webhook, false, r.Disable); err != nil {
				return err
			}
		}
		return nil
	})
	what := fmt.Sprintf("webhook %q: cursor of directory %q", c.Webhook, c.Directory)
	if err != nil {
		return s.errorf(what, err)
	}
	if lost {
		return fmt.Errorf("%s: %s: %w", s.d.Name(), what, store.ErrLeaseLost)
	}
	return nil
}

// logAttempts inserts attempts in the transaction tx.
func (s *Store) logAttempts(ctx context.Context, tx Querier, attempts []store.DeliveryAttempt) error {
	for _, a := range attempts {
		if _, err := tx.Exec(ctx, `INSERT INTO webhook_attempts (webhook_id, directory_id, event_id, seq, attempt, time, status, duration_us, error, manual)
			VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)`,
			a.Webhook, a.Directory, a.Event, a.Seq, a.Attempt, s.d.Time(a.Time), a.Status, a.Duration.Microseconds(), a.Error, a.Manual); err != nil {
			return err
		}
	}
	return nil
}

// LogDeliveryAttempts implements store.Webhooks.
func (s *Store) LogDeliveryAttempts(ctx context.Context, attempts []store.DeliveryAttempt) error {
	if len(attempts) == 0 {
		return nil
	}
	err := s.d.InTx(ctx, func(tx Querier) error { return s.logAttempts(ctx, tx, attempts) })
	if err != nil {
		return s.errorf("log delivery attempts", err)
	}
	return nil
}

// WebhookCursors implements store.Webhooks.
func (s *Store) WebhookCursors(ctx context.Context, webhook string) ([]store.WebhookCursor, error) {
	if s.checkText(webhook) != nil {
		return nil, nil
	}
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.WebhookCursor, error) {
		var c store.WebhookCursor
		var lease sql.NullString
		var until Time
		err := row.Scan(&c.Webhook, &c.Directory, &c.Seq, &c.Attempts, &lease, &until)
		c.Lease, c.LeaseUntil = lease.String, until.Time
		return c, err
	}, `SELECT webhook_id, directory_id, seq, attempts, lease, lease_until FROM webhook_cursors WHERE webhook_id = $1 ORDER BY directory_id`, webhook)
	if err != nil {
		return nil, s.errorf(fmt.Sprintf("cursors of webhook %q", webhook), err)
	}
	return out, nil
}

// DeliveryAttempts implements store.Webhooks.
func (s *Store) DeliveryAttempts(ctx context.Context, webhook string, limit int) ([]store.DeliveryAttempt, error) {
	if s.checkText(webhook) != nil {
		return nil, nil
	}
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.DeliveryAttempt, error) {
		var a store.DeliveryAttempt
		var t Time
		var us int64
		err := row.Scan(&a.Webhook, &a.Directory, &a.Event, &a.Seq, &a.Attempt, &t, &a.Status, &us, &a.Error, &a.Manual)
		a.Time, a.Duration = t.Time, time.Duration(us)*time.Microsecond
		return a, err
	}, `SELECT webhook_id, directory_id, event_id, seq, attempt, time, status, duration_us, error, manual
		FROM webhook_attempts WHERE webhook_id = $1 ORDER BY id DESC LIMIT $2`, webhook, max(limit, 1))
	if err != nil {
		return nil, s.errorf(fmt.Sprintf("attempts of webhook %q", webhook), err)
	}
	return out, nil
}

// DeadLetters implements store.Webhooks.
func (s *Store) DeadLetters(ctx context.Context, webhook string, limit int) ([]store.DeadLetter, error) {
	if s.checkText(webhook) != nil {
		return nil, nil
	}
	out, err := queryAll(ctx, s.d.Reader(), func(row Row) (store.DeadLetter, error) {
		var d store.DeadLetter
		var t Time
		err := row.Scan(&d.Webhook, &d.Directory, &d.Seq, &d.Event, &t, &d.Status, &d.Error, &d.Attempts)
		d.Time = t.Time
		return d, err
	}, `SELECT webhook_id, directory_id, seq, event_id, time, status, error, attempts
		FROM webhook_dead_letters WHERE webhook_id = $1 ORDER BY time DESC, seq DESC LIMIT $2`, webhook, max(limit, 1))
	if err != nil {
		return nil, s.errorf(fmt.Sprintf("dead letters of webhook %q", webhook), err)
	}
	return out, nil
}

// PruneDeliveryAttempts implements store.Webhooks.
func (s *Store) PruneDeliveryAttempts(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.d.Writer().Exec(ctx, `DELETE FROM webhook_attempts WHERE id IN
		(SELECT id FROM webhook_attempts WHERE time < $1 ORDER BY time LIMIT $2)`, s.d.Time(before), max(limit, 1))
	if err != nil {
		return 0, s.errorf("prune delivery attempts", err)
	}
	return int(n), nil
}
