// Package reconcile is the sync engine behind `roster sync`: it makes a
// SCIM 2.0 target hold the users and groups a source directory holds. An
// Engine reads both sides, the source through a source.Source (package
// reconcile/source) and the target through package client, computes a Plan
// that can be read before anything changes, and applies it with the fewest
// requests: one per changed user, batched PATCHes for memberships, none
// when nothing changed. Package reconcile/config builds an Engine from the
// command's YAML configuration.
//
// Safety comes first: a plan that would deactivate or delete more than a
// set share or number of the target's users is refused unless mass changes
// are allowed, users the sync neither created nor adopted are never
// touched, and an empty or failed source read changes nothing.
//
//	state, err := reconcile.LoadState("sync.yaml.state.json")
//	if err != nil {
//		return err
//	}
//	e := &reconcile.Engine{Source: src, Target: target, State: state}
//	p, err := e.Plan(ctx)
//	if err != nil {
//		return err
//	}
//	res, err := e.Apply(ctx, p, false) // or show p first
package reconcile
