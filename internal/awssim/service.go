package awssim

import (
	"errors"
	"fmt"
	"net/http"
)

// Service serves one AWS service inside the sim. It is keyed by its SigV4
// signing name: the sim routes each request to the service named in the
// credential scope of its Authorization header. See doc.go for how to add one.
type Service interface {
	// SigningName is the service part of the SigV4 credential scope, for
	// example "ec2", "iam", "s3", "elasticloadbalancing", "monitoring".
	SigningName() string
	// Operation names the operation a request asks for ("DescribeVolumes").
	// The sim counts calls under "signingname:Operation" and injects faults
	// before Serve runs. It may return a name together with an error (for an
	// unknown action, say); the sim then answers with that error.
	Operation(r *Request) (string, error)
	// Serve answers an authenticated request. r.Action holds Operation's name.
	Serve(w http.ResponseWriter, r *Request)
	// WriteError writes err in the service's wire protocol.
	WriteError(w http.ResponseWriter, r *Request, err *APIError)
}

// Request is one authenticated call, as a Service sees it.
type Request struct {
	// HTTP is the original request; its body has already been read into Body.
	HTTP *http.Request
	// Body is the request body (at most 8 MiB).
	Body []byte
	// Service and Region come from the SigV4 credential scope.
	Service, Region string
	// AccessKeyID is the caller's access key; Account and Principal are
	// the account and ARN it maps to.
	AccessKeyID, Account, Principal string
	// Action is what the service's Operation returned.
	Action string
	// RequestID is a fresh id for the response.
	RequestID string
	// Sim is the simulator serving the request.
	Sim *Sim

	params params // decoded query-protocol parameters, if any
}

// APIError is an AWS error response. Services return it from handlers and
// write it with their protocol's error format.
type APIError struct {
	// Status is the HTTP status code (400 when zero).
	Status int
	// Code is AWS's error code, for example "InvalidVolume.NotFound".
	Code string
	// Message is AWS's message text.
	Message string
	// Sender is true for client errors (awsquery's <Type>Sender</Type>).
	Sender bool
}

func (e *APIError) Error() string { return e.Code + ": " + e.Message }

// status returns the HTTP status, defaulting to 400.
func (e *APIError) status() int {
	if e.Status == 0 {
		return http.StatusBadRequest
	}
	return e.Status
}

// apiErr builds a 400 Sender error with a formatted message.
func apiErr(code, format string, args ...any) *APIError {
	return &APIError{Status: http.StatusBadRequest, Code: code, Message: fmt.Sprintf(format, args...), Sender: true}
}

// asAPIError turns any error into an APIError; errors that are not
// APIErrors become InternalError 500.
func asAPIError(err error) *APIError {
	var ae *APIError
	if errors.As(err, &ae) {
		return ae
	}
	return &APIError{Status: http.StatusInternalServerError, Code: "InternalError", Message: err.Error()}
}
