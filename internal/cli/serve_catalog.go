package cli

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/stewardhq/steward/internal/catalog"
	"github.com/stewardhq/steward/internal/engine"
)

// The catalogue's part of steward serve: at start, a state machine per
// enabled playbook (named as the playbook; created, or updated when its
// definition changed) and the playbooks' rules in the rule set.
//
// The catalogue's state machines carry catalogueRole as their role ARN, so
// a state machine someone created under a playbook's name is theirs: it is
// left as it is (and logged), never overwritten.
func init() {
	addServePart(servePart{name: "catalog", order: 40, start: startCatalog})
}

// catalogueRole marks the state machines the catalogue manages.
const catalogueRole = "arn:aws:iam::000000000000:role/steward-catalogue"

var (
	catalogsMu sync.Mutex
	catalogs   = map[*serveEnv]*catalog.Catalog{}
)

// catalogFor returns the catalogue of a serve environment: the embedded
// playbooks under env.Config. Other parts use it as their stage.Resolver
// (Stage), for blast radii (LimitsFunc) and schedules (Schedules); it is
// built once per environment, from setup on.
func catalogFor(env *serveEnv) (*catalog.Catalog, error) {
	catalogsMu.Lock()
	defer catalogsMu.Unlock()
	if c, ok := catalogs[env]; ok {
		return c, nil
	}
	c, err := catalog.New(env.Config)
	if err != nil {
		return nil, withHint(err, "steward playbooks ls --config FILE shows the catalogue under a configuration")
	}
	if err := c.Problems(); err != nil {
		env.Logf("catalogue: some playbooks did not load and are left out: %v", err)
	}
	catalogs[env] = c
	return c, nil
}

func startCatalog(ctx context.Context, env *serveEnv) error {
	cat, err := catalogFor(env)
	if err != nil {
		return err
	}
	created, updated, foreign := 0, 0, 0
	for _, p := range cat.EnabledPlaybooks() {
		arn := env.Engine.StateMachineARN(p.Name)
		def := string(p.Definition)
		sm, err := env.Engine.DescribeStateMachine(ctx, arn)
		switch {
		case err == nil && sm.RoleARN != catalogueRole:
			env.Logf("catalogue: a state machine named %s exists and is not the catalogue's: it runs instead of the playbook", p.Name)
			foreign++
		case err == nil && sm.Definition == def:
		case err == nil:
			if _, err := env.Engine.UpdateStateMachine(ctx, engine.UpdateStateMachineInput{ARN: arn, Definition: def, RoleARN: catalogueRole}); err != nil {
				return fmt.Errorf("playbook %s: update its state machine: %w", p.Name, err)
			}
			updated++
		case errors.Is(err, engine.ErrStateMachineDoesNotExist):
			if _, err := env.Engine.CreateStateMachine(ctx, engine.CreateStateMachineInput{Name: p.Name, Definition: def, RoleARN: catalogueRole}); err != nil {
				return fmt.Errorf("playbook %s: create its state machine: %w", p.Name, err)
			}
			created++
		default:
			return fmt.Errorf("playbook %s: %w", p.Name, err)
		}
	}
	if env.Rules != nil {
		if err := env.Rules.PutAll(cat.Rules()); err != nil {
			return fmt.Errorf("the playbooks' rules: %w", err)
		}
	}
	env.Logf("catalogue: %d playbooks enabled (%d state machines created, %d updated, %d of that name not the catalogue's), %d rules",
		len(cat.EnabledPlaybooks()), created, updated, foreign, len(cat.Rules()))
	return nil
}
