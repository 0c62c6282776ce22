package ingest

import (
	"context"

	"github.com/stewardhq/steward/internal/store"
)

// StoreAppender commits events to a store.EventStore.
type StoreAppender struct {
	Events store.EventStore
}

var _ Appender = StoreAppender{}

// AppendEvents implements Appender.
func (a StoreAppender) AppendEvents(ctx context.Context, events []Event) ([]bool, error) {
	rows := make([]store.Event, len(events))
	for i, e := range events {
		rows[i] = store.Event{ID: e.ID, Source: e.Source, DetailType: e.DetailType, Account: e.Account, Region: e.Region, Time: e.Time, Received: e.Received, Via: e.Via, Body: e.Body}
	}
	return a.Events.AppendEvents(ctx, rows)
}
