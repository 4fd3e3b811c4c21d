package webhook

import (
	"io"
	"net/http"
	"time"
)

// maxBody bounds the body a Receiver reads.
const maxBody = 10 << 20

// Receiver is an http.Handler for an endpoint: it verifies each delivery
// against Secrets and hands the verified ones to Deliver, answering 204
// if Deliver returns nil, 500 if not, and 401 to a delivery that does not
// verify (Deliver never sees it).
type Receiver struct {
	// Secrets are the endpoint's secrets (two during a rotation).
	Secrets []string
	// Tolerance is Verify's (DefaultTolerance when 0).
	Tolerance time.Duration
	// Deliver gets the body and headers of each verified delivery.
	Deliver func(body []byte, h http.Header) error
}

// ServeHTTP implements http.Handler.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		http.Error(w, "deliveries are POSTed", http.StatusMethodNotAllowed)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxBody))
	if err != nil {
		http.Error(w, "cannot read the body", http.StatusBadRequest)
		return
	}
	if err := Verify(rc.Secrets, r.Header, body, rc.Tolerance); err != nil {
		http.Error(w, err.Error(), http.StatusUnauthorized)
		return
	}
	if rc.Deliver != nil {
		if err := rc.Deliver(body, r.Header); err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	w.WriteHeader(http.StatusNoContent)
}
