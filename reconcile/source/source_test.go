package source

import "testing"

func TestNameUUID(t *testing.T) {
	// The value Python's uuid.uuid5(uuid.NAMESPACE_X500, name) gives.
	got := NameUUID("cn=alice,ou=people,dc=example,dc=com")
	if want := "dc35560c-0208-51d9-9815-bf8f7983cd35"; got != want {
		t.Fatalf("NameUUID = %q, want %q", got, want)
	}
	if NameUUID("cn=bob") == NameUUID("cn=alice") {
		t.Fatal("two names, one UUID")
	}
}

func TestGetIgnoresCase(t *testing.T) {
	attrs := map[string][]string{"mail": {"a@x"}, "memberOf": {"g1", "g2"}}
	if Get(attrs, "MAIL") != "a@x" || len(Values(attrs, "memberof")) != 2 || Get(attrs, "cn") != "" {
		t.Fatal("Get/Values")
	}
}
