// Package jsonapi holds the answers every part of steward's JSON API
// (/api/v1/...) writes: a JSON value, or {"error": "..."} with a status.
package jsonapi

import (
	"encoding/json"
	"errors"
	"net/http"

	"github.com/stewardhq/steward/internal/store"
)

// WriteJSON answers with status and v as JSON (HTML characters are kept as
// they are: the API's clients are programs).
func WriteJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v)
}

// WriteError answers with status and {"error": err's text}.
func WriteError(w http.ResponseWriter, status int, err error) {
	WriteJSON(w, status, map[string]string{"error": err.Error()})
}

// WriteStoreError answers a store error: 404 for store.ErrNotFound, else
// 500.
func WriteStoreError(w http.ResponseWriter, err error) {
	if errors.Is(err, store.ErrNotFound) {
		WriteError(w, http.StatusNotFound, err)
		return
	}
	WriteError(w, http.StatusInternalServerError, err)
}
