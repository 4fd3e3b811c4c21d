package sqlstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/rosterhq/roster/store"
)

// The request log is kept in segments (see the request_segments
// migration): a write stores one row per directory holding its requests
// as a JSON array. A request's ID is its segment's id times segmentSpan
// plus its place in the segment.
const segmentSpan = 1 << 16

// segmentRequest is a request as a segment's JSON keeps it.
type segmentRequest struct {
	Time         int64  `json:"t"` // Unix microseconds
	Method       string `json:"m"`
	Path         string `json:"p"`
	Status       int    `json:"s"`
	Duration     int64  `json:"d"` // microseconds
	ScimType     string `json:"st,omitempty"`
	Detail       string `json:"dt,omitempty"`
	Token        string `json:"tk,omitempty"`
	Resource     string `json:"r,omitempty"`
	RequestID    string `json:"q,omitempty"`
	RequestBody  string `json:"rb,omitempty"`
	ResponseBody string `json:"pb,omitempty"`
}

// LogRequests implements store.RequestLog: one segment per directory, in
// one transaction when there are several.
func (s *Store) LogRequests(ctx context.Context, reqs []store.Request) error {
	if len(reqs) == 0 {
		return nil
	}
	type segment struct {
		dir         string
		first, last time.Time
		resources   []string
		reqs        []segmentRequest
	}
	var segs []*segment
	byDir := map[string]*segment{}
	for _, r := range reqs {
		seg := byDir[r.Directory]
		if seg == nil {
			seg = &segment{dir: r.Directory, first: r.Time, last: r.Time}
			byDir[r.Directory] = seg
			segs = append(segs, seg)
		}
		seg.first, seg.last = minTime(seg.first, r.Time), maxTime(seg.last, r.Time)
		if r.Resource != "" {
			seg.resources = append(seg.resources, r.Resource)
		}
		seg.reqs = append(seg.reqs, segmentRequest{Time: r.Time.UnixMicro(), Method: r.Method, Path: r.Path, Status: r.Status,
			Duration: r.Duration.Microseconds(), ScimType: r.ScimType, Detail: r.Detail, Token: r.Token, Resource: r.Resource,
			RequestID: r.RequestID, RequestBody: r.RequestBody, ResponseBody: r.ResponseBody})
	}
	for _, seg := range segs {
		if len(seg.reqs) > segmentSpan {
			return s.errorf("log requests", fmt.Errorf("a segment holds at most %d requests, not %d", segmentSpan, len(seg.reqs)))
		}
	}
	// Encoded before the write, so that the database's writer is held
	// for the inserts alone.
	args := make([][]any, len(segs))
	for i, seg := range segs {
		data, err := json.Marshal(seg.reqs)
		if err != nil {
			return s.errorf("log requests", err)
		}
		slices.Sort(seg.resources)
		res := "\n" + strings.Join(slices.Compact(seg.resources), "\n") + "\n"
		args[i] = []any{seg.dir, s.d.Time(seg.first.UTC()), s.d.Time(seg.last.UTC()), res, string(data)}
	}
	const insert = `INSERT INTO request_segments (directory_id, first_time, last_time, resources, requests) VALUES ($1, $2, $3, $4, $5)`
	var err error
	if len(args) == 1 {
		_, err = s.d.Writer().Exec(ctx, insert, args[0]...)
	} else {
		err = s.d.InTx(ctx, func(tx Querier) error {
			for _, a := range args {
				if _, err := tx.Exec(ctx, insert, a...); err != nil {
					return err
				}
			}
			return nil
		})
	}
	if err != nil {
		return s.errorf(fmt.Sprintf("log %d requests", len(reqs)), err)
	}
	return nil
}

func minTime(a, b time.Time) time.Time {
	if b.Before(a) {
		return b
	}
	return a
}

func maxTime(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// likeEscaper escapes the wildcards of LIKE (with ESCAPE '\').
var likeEscaper = strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`)

// Requests implements store.RequestLog. It reads the segments that may
// hold what the query selects (by directory, resource and time, newest
// first, a few at a time) and keeps their requests that do.
func (s *Store) Requests(ctx context.Context, q store.RequestQuery) ([]store.Request, error) {
	if s.checkText(q.Directory, q.Method, q.Resource) != nil {
		return nil, nil
	}
	var where []string
	var args []any
	arg := func(cond string, v any) {
		args = append(args, v)
		where = append(where, strings.ReplaceAll(cond, "?", fmt.Sprintf("$%d", len(args))))
	}
	if q.Directory != "" {
		arg("directory_id = ?", q.Directory)
	}
	if q.Resource != "" {
		arg(`resources LIKE ? ESCAPE '\'`, "%\n"+likeEscaper.Replace(q.Resource)+"\n%")
	}
	if !q.Since.IsZero() {
		arg("last_time >= ?", s.d.Time(q.Since.UTC()))
	}
	if !q.Until.IsZero() {
		arg("first_time < ?", s.d.Time(q.Until.UTC()))
	}
	limit := max(q.Limit, 1)
	const chunk = 16
	before := q.Before
	var out []store.Request
	for {
		a := slices.Clone(args)
		w := slices.Clone(where)
		if before > 0 {
			a = append(a, (before-1)/segmentSpan)
			w = append(w, fmt.Sprintf("id <= $%d", len(a)))
		}
		query := `SELECT id, directory_id, requests FROM request_segments`
		if len(w) > 0 {
			query += ` WHERE ` + strings.Join(w, " AND ")
		}
		a = append(a, chunk)
		query += fmt.Sprintf(` ORDER BY id DESC LIMIT $%d`, len(a))
		type row struct {
			id   int64
			dir  string
			data string
		}
		rows, err := queryAll(ctx, s.d.Reader(), func(r Row) (row, error) {
			var x row
			err := r.Scan(&x.id, &x.dir, &x.data)
			return x, err
		}, query, a...)
		if err != nil {
			return nil, s.errorf("read the request log", err)
		}
		for _, seg := range rows {
			var reqs []segmentRequest
			if err := json.Unmarshal([]byte(seg.data), &reqs); err != nil {
				return nil, s.errorf("read the request log", fmt.Errorf("segment %d: %w", seg.id, err))
			}
			for i := len(reqs) - 1; i >= 0; i-- {
				r := reqs[i]
				id := seg.id*segmentSpan + int64(i)
				t := time.UnixMicro(r.Time).UTC()
				switch {
				case before > 0 && id >= before,
					q.Method != "" && r.Method != q.Method,
					q.Resource != "" && r.Resource != q.Resource,
					q.StatusClass != 0 && r.Status/100 != q.StatusClass,
					!q.Since.IsZero() && t.Before(q.Since),
					!q.Until.IsZero() && !t.Before(q.Until):
					continue
				}
				out = append(out, store.Request{ID: id, Time: t, Directory: seg.dir, Method: r.Method, Path: r.Path, Status: r.Status,
					Duration: time.Duration(r.Duration) * time.Microsecond, ScimType: r.ScimType, Detail: r.Detail, Token: r.Token,
					Resource: r.Resource, RequestID: r.RequestID, RequestBody: r.RequestBody, ResponseBody: r.ResponseBody})
				if len(out) == limit {
					return out, nil
				}
			}
		}
		if len(rows) < chunk {
			return out, nil
		}
		before = rows[len(rows)-1].id * segmentSpan
	}
}

// LastRequest implements store.RequestLog.
func (s *Store) LastRequest(ctx context.Context, dir string) (time.Time, error) {
	if s.checkText(dir) != nil {
		return time.Time{}, nil
	}
	t, err := queryAll(ctx, s.d.Reader(), func(r Row) (Time, error) {
		var t Time
		err := r.Scan(&t)
		return t, err
	}, `SELECT last_time FROM request_segments WHERE directory_id = $1 ORDER BY id DESC LIMIT 1`, dir)
	if err != nil {
		return time.Time{}, s.errorf("last request", err)
	}
	if len(t) == 0 {
		return time.Time{}, nil
	}
	return t[0].Time, nil
}

// PruneRequests implements store.RequestLog, deleting whole segments,
// oldest first: it finds them by id, the order they were written in, so
// that no index on time costs every write.
func (s *Store) PruneRequests(ctx context.Context, before time.Time, limit int) (int, error) {
	n, err := s.d.Writer().Exec(ctx, `DELETE FROM request_segments WHERE id IN
		(SELECT id FROM request_segments WHERE last_time < $1 ORDER BY id LIMIT $2)`, s.d.Time(before.UTC()), max(limit, 1))
	if err != nil {
		return 0, s.errorf("prune the request log", err)
	}
	return int(n), nil
}
