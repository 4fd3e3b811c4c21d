package client

import (
	"bytes"
	"encoding/json"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/scim/schema"
)

// Meta is a resource's metadata, set by the server.
type Meta struct {
	ResourceType string    `json:"resourceType,omitempty"`
	Created      time.Time `json:"created,omitzero"`
	LastModified time.Time `json:"lastModified,omitzero"`
	Location     string    `json:"location,omitempty"`
	// Version is the resource's ETag, which Replace and PatchIfMatch send
	// as If-Match.
	Version string `json:"version,omitempty"`
}

// Name is a user's name (RFC 7643 §4.1.1).
type Name struct {
	Formatted       string `json:"formatted,omitempty"`
	FamilyName      string `json:"familyName,omitempty"`
	GivenName       string `json:"givenName,omitempty"`
	MiddleName      string `json:"middleName,omitempty"`
	HonorificPrefix string `json:"honorificPrefix,omitempty"`
	HonorificSuffix string `json:"honorificSuffix,omitempty"`
}

// Email is one of a user's email addresses.
type Email struct {
	Value   string `json:"value,omitempty"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// PhoneNumber is one of a user's phone numbers.
type PhoneNumber struct {
	Value   string `json:"value,omitempty"`
	Type    string `json:"type,omitempty"`
	Display string `json:"display,omitempty"`
	Primary bool   `json:"primary,omitempty"`
}

// Address is one of a user's addresses.
type Address struct {
	Formatted     string `json:"formatted,omitempty"`
	StreetAddress string `json:"streetAddress,omitempty"`
	Locality      string `json:"locality,omitempty"`
	Region        string `json:"region,omitempty"`
	PostalCode    string `json:"postalCode,omitempty"`
	Country       string `json:"country,omitempty"`
	Type          string `json:"type,omitempty"`
	Primary       bool   `json:"primary,omitempty"`
}

// GroupRef is a group a user belongs to, as the server reports it.
type GroupRef struct {
	Value   string `json:"value,omitempty"`
	Ref     string `json:"$ref,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"` // direct or indirect
}

// EnterpriseUser is the enterprise extension of a user (RFC 7643 §4.3).
type EnterpriseUser struct {
	EmployeeNumber string   `json:"employeeNumber,omitempty"`
	CostCenter     string   `json:"costCenter,omitempty"`
	Organization   string   `json:"organization,omitempty"`
	Division       string   `json:"division,omitempty"`
	Department     string   `json:"department,omitempty"`
	Manager        *Manager `json:"manager,omitempty"`
}

// Manager is a user's manager, in the enterprise extension.
type Manager struct {
	Value       string `json:"value,omitempty"`
	Ref         string `json:"$ref,omitempty"`
	DisplayName string `json:"displayName,omitempty"`
}

// User is a SCIM user (RFC 7643 §4.1). Attributes without a field here
// (ims, photos, roles, entitlements, x509Certificates, custom extensions)
// are kept in Extra, so a user read and written back keeps them.
type User struct {
	ID                string          `json:"id,omitempty"`
	ExternalID        string          `json:"externalId,omitempty"`
	UserName          string          `json:"userName,omitempty"`
	Name              *Name           `json:"name,omitempty"`
	DisplayName       string          `json:"displayName,omitempty"`
	NickName          string          `json:"nickName,omitempty"`
	ProfileURL        string          `json:"profileUrl,omitempty"`
	Title             string          `json:"title,omitempty"`
	UserType          string          `json:"userType,omitempty"`
	PreferredLanguage string          `json:"preferredLanguage,omitempty"`
	Locale            string          `json:"locale,omitempty"`
	Timezone          string          `json:"timezone,omitempty"`
	Active            *bool           `json:"active,omitempty"`
	Password          string          `json:"password,omitempty"` // write-only: servers never return it
	Emails            []Email         `json:"emails,omitempty"`
	PhoneNumbers      []PhoneNumber   `json:"phoneNumbers,omitempty"`
	Addresses         []Address       `json:"addresses,omitempty"`
	Groups            []GroupRef      `json:"groups,omitempty"` // read-only
	Enterprise        *EnterpriseUser `json:"-"`
	Meta              Meta            `json:"meta,omitzero"`
	// Extra holds the other attributes by name as the server sent them
	// (an extension by its URN), to be sent back as they are.
	Extra map[string]json.RawMessage `json:"-"`
}

// Group is a SCIM group (RFC 7643 §4.2). Attributes without a field here
// are kept in Extra.
type Group struct {
	ID          string   `json:"id,omitempty"`
	ExternalID  string   `json:"externalId,omitempty"`
	DisplayName string   `json:"displayName,omitempty"`
	Members     []Member `json:"members,omitempty"`
	Meta        Meta     `json:"meta,omitzero"`
	// Extra holds the other attributes by name as the server sent them.
	Extra map[string]json.RawMessage `json:"-"`
}

// Member is a member of a group: a user, or a group (Type "Group").
type Member struct {
	Value   string `json:"value"`
	Ref     string `json:"$ref,omitempty"`
	Display string `json:"display,omitempty"`
	Type    string `json:"type,omitempty"`
}

// Bool returns a pointer to b, for User.Active.
func Bool(b bool) *bool { return &b }

// The JSON names of the attributes User and Group have fields for, which
// Extra never holds.
var (
	userFields = []string{"schemas", "id", "externalid", "username", "name", "displayname", "nickname", "profileurl",
		"title", "usertype", "preferredlanguage", "locale", "timezone", "active", "password", "emails",
		"phonenumbers", "addresses", "groups", "meta", strings.ToLower(schema.EnterpriseUserURN)}
	groupFields = []string{"schemas", "id", "externalid", "displayname", "members", "meta"}
)

// MarshalJSON encodes the user with its schemas, its enterprise extension
// and its Extra attributes.
func (u User) MarshalJSON() ([]byte, error) {
	type plain User
	extra := u.Extra
	if u.Enterprise != nil {
		ent, err := marshal(u.Enterprise)
		if err != nil {
			return nil, err
		}
		extra = withEntry(extra, schema.EnterpriseUserURN, ent)
	}
	return marshalWith(plain(u), schema.UserURN, extra)
}

// UnmarshalJSON decodes a user, keeping the attributes it has no field for
// in Extra. It takes the booleans some servers send as strings ("True").
func (u *User) UnmarshalJSON(data []byte) error {
	type plain User
	var p plain
	fields, err := unmarshalWith(data, &p, userFields, "active")
	if err != nil {
		return err
	}
	*u = User(p)
	u.Extra = fields.extra
	if raw, ok := fields.get(schema.EnterpriseUserURN); ok {
		u.Enterprise = new(EnterpriseUser)
		if err := json.Unmarshal(raw, u.Enterprise); err != nil {
			return err
		}
	}
	return nil
}

// MarshalJSON encodes the group with its schemas and Extra attributes.
func (g Group) MarshalJSON() ([]byte, error) {
	type plain Group
	return marshalWith(plain(g), schema.GroupURN, g.Extra)
}

// UnmarshalJSON decodes a group, keeping the attributes it has no field
// for in Extra.
func (g *Group) UnmarshalJSON(data []byte) error {
	type plain Group
	var p plain
	fields, err := unmarshalWith(data, &p, groupFields)
	if err != nil {
		return err
	}
	*g = Group(p)
	g.Extra = fields.extra
	return nil
}

func withEntry(m map[string]json.RawMessage, k string, v json.RawMessage) map[string]json.RawMessage {
	out := make(map[string]json.RawMessage, len(m)+1)
	for key, val := range m {
		if !strings.EqualFold(key, k) {
			out[key] = val
		}
	}
	out[k] = v
	return out
}

// marshalWith encodes v (a struct), adds extra's attributes that v has no
// value for, and sets schemas: core, then every extension URN present.
func marshalWith(v any, core string, extra map[string]json.RawMessage) ([]byte, error) {
	b, err := marshal(v)
	if err != nil {
		return nil, err
	}
	if len(extra) == 0 {
		return append([]byte(`{"schemas":["`+core+`"],`), b[1:]...), nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		return nil, err
	}
	schemas := []string{core}
	for k, val := range extra {
		if _, ok := m[k]; ok {
			continue
		}
		m[k] = val
		if strings.HasPrefix(strings.ToLower(k), "urn:") && bytes.HasPrefix(bytes.TrimSpace(val), []byte("{")) {
			schemas = append(schemas, k)
		}
	}
	slices.Sort(schemas[1:])
	s, _ := marshal(schemas)
	m["schemas"] = s
	return marshal(m)
}

// fields are the attributes of a JSON object that a type has no field for.
type fields struct {
	extra map[string]json.RawMessage
	all   map[string]json.RawMessage
}

func (f fields) get(name string) (json.RawMessage, bool) {
	for k, v := range f.all {
		if strings.EqualFold(k, name) {
			return v, true
		}
	}
	return nil, false
}

// unmarshalWith decodes data into v (encoding/json matches names ignoring
// case, as SCIM does) and returns the attributes whose names are not in
// known. Booleans named in bools may come as strings ("True", "false").
func unmarshalWith(data []byte, v any, known []string, bools ...string) (fields, error) {
	var all map[string]json.RawMessage
	if err := json.Unmarshal(data, &all); err != nil {
		return fields{}, err
	}
	fixed := false
	for k, val := range all {
		if slices.Contains(bools, strings.ToLower(k)) {
			switch strings.ToLower(string(val)) {
			case `"true"`:
				all[k], fixed = json.RawMessage("true"), true
			case `"false"`:
				all[k], fixed = json.RawMessage("false"), true
			}
		}
	}
	if fixed {
		var err error
		if data, err = json.Marshal(all); err != nil {
			return fields{}, err
		}
	}
	if err := json.Unmarshal(data, v); err != nil {
		return fields{}, err
	}
	f := fields{all: all}
	for k, val := range all {
		if !slices.Contains(known, strings.ToLower(k)) {
			if f.extra == nil {
				f.extra = make(map[string]json.RawMessage)
			}
			f.extra[k] = val
		}
	}
	return f, nil
}

// marshal is json.Marshal without its escaping of <, > and & for HTML:
// "R&D" stays "R&D", as people and other SCIM servers write it.
func marshal(v any) ([]byte, error) {
	var b bytes.Buffer
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	if err := enc.Encode(v); err != nil {
		return nil, err
	}
	return bytes.TrimSuffix(b.Bytes(), []byte("\n")), nil
}
