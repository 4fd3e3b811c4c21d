// Package webhook delivers Roster's events to webhooks, signed as the
// Standard Webhooks specification has it, and verifies them for
// receivers.
//
// A Deliverer's Run claims, through the store, the (webhook, directory)
// cursors that have events due, and delivers those events one at a
// time, in seq order: the next event goes out only after the receiver
// acknowledged the one before (any 2xx) or it was dead-lettered after
// its last try (DefaultSchedule: at once, 5 s, 5 min, 30 min, 2 h, 5 h,
// 10 h, 10 h, with jitter; Retry-After is honoured on a 429 or 503; a
// 410 disables the webhook). Delivery is at least once: a receiver drops
// a webhook-id it has seen. The state lives in the database, so that a
// restart, a kill -9 or a second server sharing a PostgreSQL database
// loses nothing and never sends one event twice at the same moment.
//
// Each delivery carries webhook-id (the event's id), webhook-timestamp
// (Unix seconds) and webhook-signature: "v1," and the base64 of the
// HMAC-SHA256 of id.timestamp.body under the secret's key (the base64
// after "whsec_"); during a rotation, one such entry per secret,
// separated by a space. A receiver verifies it with Verify:
//
//	body, _ := io.ReadAll(r.Body)
//	if err := webhook.Verify([]string{secret}, r.Header, body, 0); err != nil {
//		http.Error(w, "bad signature", http.StatusUnauthorized)
//		return
//	}
//	var e store.Event
//	json.Unmarshal(body, &e)
//
// or mounts a Receiver, which does the same. Endpoint URLs that resolve
// to loopback, link-local or private addresses are refused, when made
// (CheckURL) and again when connecting, unless AllowPrivate is set.
package webhook
