package cli

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"

	"github.com/stewardhq/steward/internal/api"
)

// stewardSigningName is the SigV4 service name of steward's own JSON API
// (/api/v1/...) and of POST /events when signed.
const stewardSigningName = "steward"

var stewardHTTP = &http.Client{Timeout: 2 * time.Minute, Transport: &http.Transport{Proxy: nil, MaxIdleConnsPerHost: 8}}

// call sends a SigV4-signed JSON request to steward serve and decodes the
// answer into out (when not nil). A non-2xx answer is an error carrying
// the server's message.
func (f *apiFlags) call(ctx context.Context, method, path string, body []byte, out any) error {
	key, err := api.LoadAccessKey(f.dataDir, os.Getenv)
	if err != nil {
		if errors.Is(err, api.ErrNoAccessKey) {
			return withHint(err, "set STEWARD_ACCESS_KEY_ID and STEWARD_SECRET_ACCESS_KEY, or pass --data with steward serve's data directory")
		}
		return err
	}
	req, err := http.NewRequestWithContext(ctx, method, strings.TrimRight(f.endpoint, "/")+path, bytes.NewReader(body))
	if err != nil {
		return err
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/json")
	}
	sum := sha256.Sum256(body)
	creds := aws.Credentials{AccessKeyID: key.AccessKeyID, SecretAccessKey: key.SecretAccessKey}
	if err := v4.NewSigner().SignHTTP(ctx, creds, req, hex.EncodeToString(sum[:]), stewardSigningName, "us-east-1", time.Now()); err != nil {
		return fmt.Errorf("sign request: %w", err)
	}
	resp, err := stewardHTTP.Do(req)
	if err != nil {
		return withHint(err, "is steward serve running at "+f.endpoint+"? (--endpoint)")
	}
	defer resp.Body.Close()
	data, err := io.ReadAll(io.LimitReader(resp.Body, 64<<20))
	if err != nil {
		return err
	}
	if resp.StatusCode/100 != 2 {
		var e struct {
			Error   string `json:"error"`
			Message string `json:"message"`
			Type    string `json:"__type"`
		}
		_ = json.Unmarshal(data, &e)
		msg := e.Error
		if msg == "" {
			msg = strings.TrimSpace(e.Type + " " + e.Message)
		}
		if msg == "" {
			msg = strings.TrimSpace(string(data))
		}
		err := fmt.Errorf("%s %s: %s: %s", method, path, resp.Status, msg)
		if resp.StatusCode == http.StatusForbidden || resp.StatusCode == http.StatusUnauthorized {
			return withHint(err, "the access key does not match steward serve's: use its --data DIR or its STEWARD_ACCESS_KEY_ID and STEWARD_SECRET_ACCESS_KEY")
		}
		return err
	}
	if out == nil || len(data) == 0 {
		return nil
	}
	return json.Unmarshal(data, out)
}
