package schema

import "strings"

// Type is the data type of an attribute (RFC 7643 §2.3).
type Type string

// The attribute data types of RFC 7643 §2.3.
const (
	String    Type = "string"
	Boolean   Type = "boolean"
	Decimal   Type = "decimal"
	Integer   Type = "integer"
	DateTime  Type = "dateTime"
	Binary    Type = "binary"
	Reference Type = "reference"
	Complex   Type = "complex"
)

// Mutability says whether and how a client may change an attribute
// (RFC 7643 §7).
type Mutability string

// The mutability values of RFC 7643 §7.
const (
	ReadOnly  Mutability = "readOnly"
	ReadWrite Mutability = "readWrite"
	Immutable Mutability = "immutable"
	WriteOnly Mutability = "writeOnly"
)

// Returned says when an attribute appears in a response (RFC 7643 §7).
type Returned string

// The returned values of RFC 7643 §7.
const (
	Always  Returned = "always"
	Never   Returned = "never"
	Default Returned = "default"
	Request Returned = "request"
)

// Uniqueness says how an attribute's value must be unique (RFC 7643 §7).
type Uniqueness string

// The uniqueness values of RFC 7643 §7.
const (
	None   Uniqueness = "none"
	Server Uniqueness = "server"
	Global Uniqueness = "global"
)

// Attribute is the definition of one attribute or sub-attribute with its
// characteristics (RFC 7643 §2.2 and §7). Attributes are shared between
// goroutines and must not be modified once their schema is registered.
type Attribute struct {
	Name            string       `json:"name"`
	Type            Type         `json:"type"`
	SubAttributes   []*Attribute `json:"subAttributes,omitempty"`
	MultiValued     bool         `json:"multiValued"`
	Description     string       `json:"description,omitempty"`
	Required        bool         `json:"required"`
	CanonicalValues []string     `json:"canonicalValues,omitempty"`
	CaseExact       bool         `json:"caseExact"`
	Mutability      Mutability   `json:"mutability"`
	Returned        Returned     `json:"returned"`
	Uniqueness      Uniqueness   `json:"uniqueness"`
	ReferenceTypes  []string     `json:"referenceTypes,omitempty"`
}

// SubAttribute returns the sub-attribute called name, compared
// case-insensitively, or nil if a has none by that name.
func (a *Attribute) SubAttribute(name string) *Attribute {
	return find(a.SubAttributes, name)
}

// IsString reports whether values of a are compared as strings: string,
// reference, binary and dateTime values are all JSON strings.
func (a *Attribute) IsString() bool {
	switch a.Type {
	case String, Reference, Binary:
		return true
	}
	return false
}

func find(attrs []*Attribute, name string) *Attribute {
	for _, a := range attrs {
		if strings.EqualFold(a.Name, name) {
			return a
		}
	}
	return nil
}
