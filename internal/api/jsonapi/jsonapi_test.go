package jsonapi

import (
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/stewardhq/steward/internal/store"
)

func TestAnswers(t *testing.T) {
	tests := []struct {
		write  func(w http.ResponseWriter)
		status int
		body   string
	}{
		{func(w http.ResponseWriter) { WriteJSON(w, 201, map[string]string{"a": "<b>"}) }, 201, `{"a":"<b>"}` + "\n"},
		{func(w http.ResponseWriter) { WriteError(w, 400, errors.New("bad")) }, 400, `{"error":"bad"}` + "\n"},
		{func(w http.ResponseWriter) { WriteStoreError(w, fmt.Errorf("x: %w", store.ErrNotFound)) }, 404, `{"error":"x: not found"}` + "\n"},
		{func(w http.ResponseWriter) { WriteStoreError(w, errors.New("disk")) }, 500, `{"error":"disk"}` + "\n"},
	}
	for i, tt := range tests {
		rec := httptest.NewRecorder()
		tt.write(rec)
		if rec.Code != tt.status || rec.Body.String() != tt.body || rec.Header().Get("Content-Type") != "application/json" {
			t.Errorf("%d: %d %q %q", i, rec.Code, rec.Body.String(), rec.Header().Get("Content-Type"))
		}
	}
}
