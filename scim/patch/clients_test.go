package patch_test

import (
	"testing"
)

// What Microsoft Entra ID sends (../shared/clients/REAL-CLIENTS.md).
func TestApplyEntraID(t *testing.T) {
	user := `{"userName":"ann@example.com","active":true,"` + enterprise + `":{"manager":{"value":"` + james + `"}}}`
	runApplyCases(t, []applyCase{
		{
			name:   "EntraID: capitalised op names are applied, not ignored",
			rt:     userType(),
			before: `{"userName":"ann@example.com","title":"Engineer"}`,
			body: ops(`{"op":"Replace","path":"title","value":"Manager"}`, `{"op":"Add","path":"nickName","value":"Annie"}`,
				`{"op":"REMOVE","path":"displayName"}`),
			after: `{"userName":"ann@example.com","title":"Manager","nickName":"Annie"}`,
		},
		{
			name:   "EntraID: active as the string False deactivates",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"Replace","path":"active","value":"False"}`),
			after:  `{"userName":"ann@example.com","active":false,"` + enterprise + `":{"manager":{"value":"` + james + `"}}}`,
		},
		{
			name:   "EntraID: a path-less value with dotted and URN-qualified names",
			rt:     userType(),
			before: user,
			body: ops(`{"op":"Replace","value":{"active":false,"name.givenName":"Ann","name.familyName":"Lee",
				"` + enterprise + `:department":"R&D"}}`),
			after: `{"userName":"ann@example.com","active":false,"name":{"givenName":"Ann","familyName":"Lee"},
				"` + enterprise + `":{"department":"R&D","manager":{"value":"` + james + `"}}}`,
		},
		{
			name:   "EntraID: replace through a filter that matches nothing adds the element",
			rt:     userType(),
			before: `{"userName":"ann@example.com","emails":[{"value":"ann@home.example","type":"home"}]}`,
			body:   ops(`{"op":"Replace","path":"emails[type eq \"work\"].value","value":"ann@example.com"}`),
			after:  `{"userName":"ann@example.com","emails":[{"value":"ann@home.example","type":"home"},{"value":"ann@example.com","type":"work"}]}`,
		},
		{
			name:   "EntraID: repeated adds through one filter build one element",
			rt:     userType(),
			before: `{"userName":"ann@example.com"}`,
			body: ops(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"ann@example.com"}`,
				`{"op":"Add","path":"emails[type eq \"work\"].primary","value":"True"}`,
				`{"op":"Add","path":"emails[type eq \"work\"].value","value":"ann@example.com"}`),
			after: `{"userName":"ann@example.com","emails":[{"value":"ann@example.com","type":"work","primary":true}]}`,
		},
		{
			name:   "EntraID: add through a filter updates the matching element",
			rt:     userType(),
			before: `{"userName":"ann@example.com","emails":[{"value":"old@example.com","type":"work"}]}`,
			body:   ops(`{"op":"Add","path":"emails[type eq \"work\"].value","value":"new@example.com"}`),
			after:  `{"userName":"ann@example.com","emails":[{"value":"new@example.com","type":"work"}]}`,
		},
		{
			name:   "EntraID: remove of members with a value array removes just those",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a"},{"value":"b"},{"value":"c"}]}`,
			body:   ops(`{"op":"Remove","path":"members","value":[{"value":"a"},{"value":"c"}]}`),
			after:  `{"displayName":"Eng","members":[{"value":"b"}]}`,
		},
		{
			name:   "EntraID: add of several members in one request",
			rt:     groupType(),
			before: `{"displayName":"Eng"}`,
			body:   ops(`{"op":"Add","path":"members","value":[{"value":"a"},{"value":"b"}]}`, `{"op":"Add","path":"members","value":[{"value":"b"},{"value":"c"}]}`),
			after:  `{"displayName":"Eng","members":[{"value":"a"},{"value":"b"},{"value":"c"}]}`,
		},
		{
			name:   "EntraID: remove of members through a filter",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a"},{"value":"b"}]}`,
			body:   ops(`{"op":"Remove","path":"members[value eq \"a\"]"}`),
			after:  `{"displayName":"Eng","members":[{"value":"b"}]}`,
		},
		{
			name:   "EntraID: replace of manager with a plain id",
			rt:     userType(),
			before: `{"userName":"ann@example.com"}`,
			body:   ops(`{"op":"Replace","path":"` + enterprise + `:manager","value":"` + babs + `"}`),
			after:  `{"userName":"ann@example.com","` + enterprise + `":{"manager":{"value":"` + babs + `"}}}`,
		},
		{
			name:   "EntraID: remove of manager",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"Remove","path":"` + enterprise + `:manager"}`),
			after:  `{"userName":"ann@example.com","active":true}`,
		},
		{
			name:   "EntraID: remove of manager written with a value filter",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"Remove","path":"manager[value eq \"` + james + `\"]"}`),
			after:  `{"userName":"ann@example.com","active":true}`,
		},
		{
			name:   "EntraID: an empty Operations array is a no-op",
			rt:     userType(),
			before: user,
			body:   ops(),
			after:  user,
		},
		{
			name:   "EntraID: a boolean sent as a string in a path-less value",
			rt:     userType(),
			before: user,
			body:   ops(`{"op":"Replace","value":{"active":"False"}}`),
			after:  `{"userName":"ann@example.com","active":false,"` + enterprise + `":{"manager":{"value":"` + james + `"}}}`,
		},
	})
}

// What Okta sends (../shared/clients/REAL-CLIENTS.md).
func TestApplyOkta(t *testing.T) {
	runApplyCases(t, []applyCase{
		{
			name:   "Okta: deactivation is a path-less replace of active",
			rt:     userType(),
			before: `{"userName":"ann@example.com","active":true}`,
			body:   ops(`{"op":"replace","value":{"active":false}}`),
			after:  `{"userName":"ann@example.com","active":false}`,
		},
		{
			name:   "Okta: reactivation",
			rt:     userType(),
			before: `{"userName":"ann@example.com","active":false}`,
			body:   ops(`{"op":"replace","value":{"active":true}}`),
			after:  `{"userName":"ann@example.com","active":true}`,
		},
		{
			name:   "Okta: group push renames with the group's id in the value, which is ignored",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a"}]}`,
			body:   ops(`{"op":"replace","value":{"id":"GID","displayName":"Engineering"}}`),
			after:  `{"displayName":"Engineering","members":[{"value":"a"}]}`,
		},
		{
			name:   "Okta: group push removes a member through a filter without a value",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a","display":"Ann"},{"value":"b","display":"Bob"}]}`,
			body:   ops(`{"op":"replace","value":{"id":"GID","displayName":"Eng"}}`, `{"op":"remove","path":"members[value eq \"a\"]"}`),
			after:  `{"displayName":"Eng","members":[{"value":"b","display":"Bob"}]}`,
		},
		{
			name:   "Okta: group push adds a member with its display name",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a","display":"Ann"}]}`,
			body:   ops(`{"op":"replace","value":{"id":"GID","displayName":"Eng"}}`, `{"op":"add","path":"members","value":[{"value":"b","display":"Bob"}]}`),
			after:  `{"displayName":"Eng","members":[{"value":"a","display":"Ann"},{"value":"b","display":"Bob"}]}`,
		},
		{
			name:   "Okta: group push adding a member twice keeps one",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a","display":"Ann"}]}`,
			body:   ops(`{"op":"add","path":"members","value":[{"value":"a","display":"Ann"}]}`),
			after:  `{"displayName":"Eng","members":[{"value":"a","display":"Ann"}]}`,
		},
		{
			name:   "Okta: group push replaces members with the full list",
			rt:     groupType(),
			before: `{"displayName":"Eng","members":[{"value":"a"},{"value":"b"}]}`,
			body:   ops(`{"op":"replace","path":"members","value":[{"value":"b","display":"Bob"},{"value":"c","display":"Cy"}]}`),
			after:  `{"displayName":"Eng","members":[{"value":"b","display":"Bob"},{"value":"c","display":"Cy"}]}`,
		},
		{
			name:   "Okta: a full member list with a duplicate stores it once",
			rt:     groupType(),
			before: `{"displayName":"Eng"}`,
			body:   ops(`{"op":"replace","path":"members","value":[{"value":"c"},{"value":"c"}]}`),
			after:  `{"displayName":"Eng","members":[{"value":"c"}]}`,
		},
	})
}
