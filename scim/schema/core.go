package schema

// This file holds the schemas RFC 7643 defines, transcribed from their
// normative representation in §8.7.1, and the common attributes of §3.1.
// Characteristics follow §8.7.1 exactly unless a comment says otherwise;
// descriptions are shortened.

// UserSchema returns a new copy of the core User schema (RFC 7643 §4.1).
func UserSchema() *Schema {
	return &Schema{
		ID:          UserURN,
		Name:        "User",
		Description: "User Account",
		Attributes: []*Attribute{
			coreAttr("userName", String, "Unique identifier for the User, typically used by the user to directly authenticate to the service provider.",
				withRequired, withUniqueness(Server)),
			coreComplex("name", "The components of the user's real name.", false,
				coreAttr("formatted", String, "The full name, including all middle names, titles, and suffixes as appropriate, formatted for display."),
				coreAttr("familyName", String, "The family name of the User, or last name in most Western languages."),
				coreAttr("givenName", String, "The given name of the User, or first name in most Western languages."),
				coreAttr("middleName", String, "The middle name(s) of the User."),
				coreAttr("honorificPrefix", String, "The honorific prefix(es) of the User, or title in most Western languages."),
				coreAttr("honorificSuffix", String, "The honorific suffix(es) of the User, or suffix in most Western languages."),
			),
			coreAttr("displayName", String, "The name of the User, suitable for display to end-users."),
			coreAttr("nickName", String, "The casual way to address the user in real life."),
			coreAttr("profileUrl", Reference, "A fully qualified URL pointing to a page representing the User's online profile.",
				withRefTypes("external")),
			coreAttr("title", String, "The user's title, such as \"Vice President.\""),
			coreAttr("userType", String, "Used to identify the relationship between the organization and the user."),
			coreAttr("preferredLanguage", String, "Indicates the User's preferred written or spoken language."),
			coreAttr("locale", String, "Used to indicate the User's default location for purposes of localizing items such as currency, date time format, or numerical representations."),
			coreAttr("timezone", String, "The User's time zone in the 'Olson' time zone database format, e.g., 'America/Los_Angeles'."),
			coreAttr("active", Boolean, "A Boolean value indicating the User's administrative status."),
			coreAttr("password", String, "The User's cleartext password.",
				withMutability(WriteOnly), withReturned(Never)),
			coreMulti("emails", "Email addresses for the user.",
				coreAttr("value", String, "Email address for the user."),
				"work", "home", "other"),
			coreMulti("phoneNumbers", "Phone numbers for the User.",
				coreAttr("value", String, "Phone number of the User."),
				"work", "home", "mobile", "fax", "pager", "other"),
			coreMulti("ims", "Instant messaging addresses for the User.",
				coreAttr("value", String, "Instant messaging address for the User."),
				"aim", "gtalk", "icq", "xmpp", "msn", "skype", "qq", "yahoo"),
			coreMulti("photos", "URLs of photos of the User.",
				coreAttr("value", Reference, "URL of a photo of the User.", withRefTypes("external")),
				"photo", "thumbnail"),
			coreComplex("addresses", "A physical mailing address for this User.", true,
				coreAttr("formatted", String, "The full mailing address, formatted for display or use with a mailing label."),
				coreAttr("streetAddress", String, "The full street address component, which may include house number, street name, P.O. box, and multi-line extended street address information."),
				coreAttr("locality", String, "The city or locality component."),
				coreAttr("region", String, "The state or region component."),
				coreAttr("postalCode", String, "The zip code or postal code component."),
				coreAttr("country", String, "The country name component."),
				coreAttr("type", String, "A label indicating the attribute's function, e.g., 'work' or 'home'.",
					withCanonical("work", "home", "other")),
				// §8.7.1 omits "primary" here, but it is one of the
				// default sub-attributes of multi-valued attributes
				// (§2.4), §4.1.2 describes a primary address, and the
				// RFC's own examples (§8.2) send one.
				corePrimary(),
			),
			coreWith(coreComplex("groups", "A list of groups to which the user belongs, either through direct membership, through nested groups, or dynamically calculated.", true,
				coreAttr("value", String, "The identifier of the User's group.", withMutability(ReadOnly)),
				coreAttr("$ref", Reference, "The URI of the corresponding 'Group' resource to which the user belongs.",
					withRefTypes("User", "Group"), withMutability(ReadOnly)),
				coreAttr("display", String, "A human-readable name, primarily used for display purposes.", withMutability(ReadOnly)),
				coreAttr("type", String, "A label indicating the attribute's function, e.g., 'direct' or 'indirect'.",
					withCanonical("direct", "indirect"), withMutability(ReadOnly)),
			), withMutability(ReadOnly)),
			coreMulti("entitlements", "A list of entitlements for the User that represent a thing the User has.",
				coreAttr("value", String, "The value of an entitlement.")),
			coreMulti("roles", "A list of roles for the User that collectively represent who the User is, e.g., 'Student', 'Faculty'.",
				coreAttr("value", String, "The value of a role.")),
			coreMulti("x509Certificates", "A list of certificates issued to the User.",
				coreAttr("value", Binary, "The value of an X.509 certificate.")),
		},
	}
}

// GroupSchema returns a new copy of the core Group schema (RFC 7643 §4.2).
func GroupSchema() *Schema {
	return &Schema{
		ID:          GroupURN,
		Name:        "Group",
		Description: "Group",
		Attributes: []*Attribute{
			// §8.7.1 says "required": false, but §4.2 and the attribute's
			// own description in §8.7.1 say REQUIRED; we follow §4.2.
			coreAttr("displayName", String, "A human-readable name for the Group.", withRequired),
			// §4.2: "While values MAY be added or removed, sub-attributes
			// of members are 'immutable'."
			coreComplex("members", "A list of members of the Group.", true,
				coreAttr("value", String, "Identifier of the member of this Group.", withMutability(Immutable)),
				coreAttr("$ref", Reference, "The URI corresponding to a SCIM resource that is a member of this Group.",
					withRefTypes("User", "Group"), withMutability(Immutable)),
				coreAttr("type", String, "A label indicating the type of resource, e.g., 'User' or 'Group'.",
					withCanonical("User", "Group"), withMutability(Immutable)),
				// §8.7.1 does not list "display", but the RFC's examples
				// (§8.4) and RFC 7644 send it. It is a default
				// sub-attribute of multi-valued attributes with a
				// mutability of "immutable" (§2.4), matching §4.2.
				coreAttr("display", String, "A human-readable name, primarily used for display purposes.", withMutability(Immutable)),
			),
		},
	}
}

// EnterpriseUserSchema returns a new copy of the Enterprise User extension (RFC 7643 §4.3).
func EnterpriseUserSchema() *Schema {
	return &Schema{
		ID:          EnterpriseUserURN,
		Name:        "EnterpriseUser",
		Description: "Enterprise User",
		Attributes: []*Attribute{
			coreAttr("employeeNumber", String, "Numeric or alphanumeric identifier assigned to a person, typically based on order of hire or association with an organization."),
			coreAttr("costCenter", String, "Identifies the name of a cost center."),
			coreAttr("organization", String, "Identifies the name of an organization."),
			coreAttr("division", String, "Identifies the name of a division."),
			coreAttr("department", String, "Identifies the name of a department."),
			// §8.7.1 marks value and $ref "required": false although their
			// descriptions say REQUIRED; we follow the characteristics.
			coreComplex("manager", "The User's manager.", false,
				coreAttr("value", String, "The id of the SCIM resource representing the User's manager."),
				coreAttr("$ref", Reference, "The URI of the SCIM resource representing the User's manager.",
					withRefTypes("User")),
				coreAttr("displayName", String, "The displayName of the User's manager.", withMutability(ReadOnly)),
			),
		},
	}
}

// commonAttributeList holds id, externalId and meta. It is built once and
// never modified.
var commonAttributeList = []*Attribute{
	// §3.1 gives id caseExact, readOnly and returned always; it MUST be
	// unique across the service provider's resources, hence uniqueness
	// server. It is not marked required because clients never send it.
	coreAttr("id", String, "A unique identifier for a SCIM resource as defined by the service provider.",
		withCaseExact, withMutability(ReadOnly), withReturned(Always), withUniqueness(Server)),
	coreAttr("externalId", String, "A String that is an identifier for the resource as defined by the provisioning client.",
		withCaseExact),
	// §3.1: all meta sub-attributes are readOnly and returned default.
	coreWith(coreComplex("meta", "A complex attribute containing resource metadata.", false,
		coreAttr("resourceType", String, "The name of the resource type of the resource.",
			withCaseExact, withMutability(ReadOnly)),
		coreAttr("created", DateTime, "The DateTime that the resource was added to the service provider.",
			withMutability(ReadOnly)),
		coreAttr("lastModified", DateTime, "The most recent DateTime that the details of this resource were updated at the service provider.",
			withMutability(ReadOnly)),
		// §3.1 gives no caseExact for location; URIs compare
		// case-sensitively apart from scheme and host (RFC 3986 §6.2.2.1).
		coreAttr("location", Reference, "The URI of the resource being returned.",
			withRefTypes("uri"), withCaseExact, withMutability(ReadOnly)),
		coreAttr("version", String, "The version (entity-tag) of the resource being returned.",
			withCaseExact, withMutability(ReadOnly)),
	), withMutability(ReadOnly)),
}

// CommonAttributes returns the attributes every resource has: id, externalId and meta (RFC 7643 §3.1).
// The returned slice is shared and must not be modified.
func CommonAttributes() []*Attribute { return commonAttributeList }

// coreOpt changes one characteristic of an attribute under construction.
type coreOpt func(*Attribute)

var (
	withRequired  coreOpt = func(a *Attribute) { a.Required = true }
	withCaseExact coreOpt = func(a *Attribute) { a.CaseExact = true }
)

func withMutability(m Mutability) coreOpt { return func(a *Attribute) { a.Mutability = m } }
func withReturned(r Returned) coreOpt     { return func(a *Attribute) { a.Returned = r } }
func withUniqueness(u Uniqueness) coreOpt { return func(a *Attribute) { a.Uniqueness = u } }
func withCanonical(v ...string) coreOpt   { return func(a *Attribute) { a.CanonicalValues = v } }
func withRefTypes(t ...string) coreOpt    { return func(a *Attribute) { a.ReferenceTypes = t } }

// coreAttr returns a single-valued, optional attribute of type t with the
// default characteristics of RFC 7643 §2.2 spelled out (readWrite, returned
// default, uniqueness none, caseExact false), then applies opts.
func coreAttr(name string, t Type, desc string, opts ...coreOpt) *Attribute {
	a := &Attribute{
		Name:        name,
		Type:        t,
		Description: desc,
		Mutability:  ReadWrite,
		Returned:    Default,
		Uniqueness:  None,
	}
	return coreWith(a, opts...)
}

// coreWith applies opts to a and returns it.
func coreWith(a *Attribute, opts ...coreOpt) *Attribute {
	for _, o := range opts {
		o(a)
	}
	return a
}

// coreComplex returns a complex attribute with the given sub-attributes and
// default characteristics; wrap it in coreWith to change them.
func coreComplex(name, desc string, multi bool, subs ...*Attribute) *Attribute {
	a := coreAttr(name, Complex, desc)
	a.MultiValued = multi
	a.SubAttributes = subs
	return a
}

// coreMulti returns a multi-valued complex attribute with the sub-attributes
// §8.7.1 gives emails, phoneNumbers, ims, photos, entitlements, roles and
// x509Certificates: value, display, type (with the canonical values given,
// if any) and primary. §8.7.1 makes display readWrite although its
// description says READ-ONLY and §2.4 says immutable; we follow §8.7.1.
func coreMulti(name, desc string, value *Attribute, types ...string) *Attribute {
	typ := coreAttr("type", String, "A label indicating the attribute's function.")
	if len(types) > 0 {
		typ.CanonicalValues = types
	}
	return coreComplex(name, desc, true,
		value,
		coreAttr("display", String, "A human-readable name, primarily used for display purposes."),
		typ,
		corePrimary(),
	)
}

// corePrimary returns the "primary" sub-attribute of a multi-valued attribute.
func corePrimary() *Attribute {
	return coreAttr("primary", Boolean, "A Boolean value indicating the 'primary' or preferred attribute value for this attribute.")
}
