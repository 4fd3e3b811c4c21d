package webhook_test

import (
	"context"
	"errors"
	"net/netip"
	"testing"

	"github.com/rosterhq/roster/webhook"
)

func TestIsPublic(t *testing.T) {
	t.Parallel()
	for addr, want := range map[string]bool{
		"93.184.215.14": true, "2606:4700::1111": true, "8.8.8.8": true,
		"127.0.0.1": false, "127.9.9.9": false, "::1": false, "0.0.0.0": false, "::": false,
		"10.1.2.3": false, "172.16.0.1": false, "192.168.1.1": false, "fd00::1": false,
		"169.254.169.254": false, "fe80::1": false, "100.64.0.1": false,
		"224.0.0.1": false, "ff02::1": false, "255.255.255.255": false, "198.18.0.1": false,
		"::ffff:127.0.0.1": false, "::ffff:10.0.0.1": false, "::ffff:8.8.8.8": true,
	} {
		if got := webhook.IsPublic(netip.MustParseAddr(addr)); got != want {
			t.Errorf("IsPublic(%s) = %v, want %v", addr, got, want)
		}
	}
}

func TestCheckURL(t *testing.T) {
	t.Parallel()
	ctx := context.Background()
	for _, tc := range []struct {
		url          string
		allowPrivate bool
		private      bool // refused as private
		ok           bool
	}{
		{url: "https://93.184.215.14/hooks", ok: true},
		{url: "http://127.0.0.1:8080/hooks", private: true},
		{url: "http://localhost:8080/hooks", private: true},
		{url: "http://[::1]/hooks", private: true},
		{url: "http://169.254.169.254/latest/meta-data", private: true},
		{url: "http://10.0.0.5/hooks", private: true},
		{url: "http://0.0.0.0:9000/", private: true},
		{url: "http://127.0.0.1:8080/hooks", allowPrivate: true, ok: true},
		{url: "ftp://93.184.215.14/hooks"},
		{url: "/hooks"},
		{url: "https://user:pass@93.184.215.14/hooks"},
		{url: "https://"},
	} {
		err := webhook.CheckURL(ctx, tc.url, tc.allowPrivate)
		switch {
		case tc.ok && err != nil:
			t.Errorf("CheckURL(%q, %v): %v", tc.url, tc.allowPrivate, err)
		case !tc.ok && err == nil:
			t.Errorf("CheckURL(%q, %v) accepted it", tc.url, tc.allowPrivate)
		case tc.private != errors.Is(err, webhook.ErrPrivateAddress):
			t.Errorf("CheckURL(%q, %v): %v; refused as private: want %v", tc.url, tc.allowPrivate, err, tc.private)
		}
	}
}
