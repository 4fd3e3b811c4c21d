package scim

// ListResponse is the envelope of a query response (RFC 7644 §3.4.2),
// with the cursor fields of RFC 9865. T is the type of one resource:
// json.RawMessage for already-encoded resources, or a typed struct.
type ListResponse[T any] struct {
	Schemas      []string `json:"schemas"`
	TotalResults int      `json:"totalResults"`
	// StartIndex and ItemsPerPage are set with index pagination; a response
	// to a cursor request omits StartIndex.
	StartIndex     int    `json:"startIndex,omitempty"`
	ItemsPerPage   int    `json:"itemsPerPage"`
	NextCursor     string `json:"nextCursor,omitempty"`
	PreviousCursor string `json:"previousCursor,omitempty"`
	Resources      []T    `json:"Resources"`
}

// NewListResponse returns a ListResponse holding resources, with its
// schemas and itemsPerPage set and startIndex 1 (the first page; Okta
// reads it). A cursor response sets StartIndex to 0 to leave it out.
// Resources is never nil, so it encodes as an empty array rather than null.
func NewListResponse[T any](total int, resources []T) *ListResponse[T] {
	if resources == nil {
		resources = []T{}
	}
	return &ListResponse[T]{
		Schemas:      []string{ListResponseURN},
		TotalResults: total,
		StartIndex:   1,
		ItemsPerPage: len(resources),
		Resources:    resources,
	}
}

// SearchRequest is the body of a POST to a .search endpoint (RFC 7644
// §3.4.3), with the cursor of RFC 9865.
type SearchRequest struct {
	Schemas            []string `json:"schemas"`
	Attributes         []string `json:"attributes,omitempty"`
	ExcludedAttributes []string `json:"excludedAttributes,omitempty"`
	Filter             string   `json:"filter,omitempty"`
	SortBy             string   `json:"sortBy,omitempty"`
	SortOrder          string   `json:"sortOrder,omitempty"`
	StartIndex         int      `json:"startIndex,omitempty"`
	Count              *int     `json:"count,omitempty"`
	Cursor             *string  `json:"cursor,omitempty"`
}
