// Package apierror reads what a refused call's gRPC status says into an *Error: its code and
// message, and the reason, metadata and field violations its details carry.
//
// Every error the API answers carries a google.rpc.ErrorInfo of domain "autosalon" whose Reason
// is a stable word (TOKEN_EXPIRED, VEHICLE_NOT_AVAILABLE, ...); bad input (INVALID_ARGUMENT)
// also a google.rpc.BadRequest naming each field at fault. A program acts on the reason, never on
// the message, which may be reworded:
//
//	order, err := sales.CreateOrder(ctx, request)
//	if refusal := apierror.From(err); refusal != nil {
//		switch refusal.Reason {
//		case apierror.ReasonVehicleNotAvailable: // offer another car
//		case apierror.ReasonTokenExpired:        // refresh the token and call again
//		default:                                 // an unknown reason: act on refusal.Code
//		}
//	}
//
// The constants below name only the reasons clients act on most; the full list, and which
// gRPC code each comes with, is the API's proto/autosalon/ERRORS.md. A reason not listed there
// may be added later: treat an unknown one by its code.
package apierror

import (
	"errors"
	"fmt"
	"strings"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// Domain is the ErrorInfo domain of the API's own reasons; an ErrorInfo of another domain (a
// proxy's, say) is not read as one of them.
const Domain = "autosalon"

// A subset of the reasons (ErrorInfo.Reason), those clients act on most; see ERRORS.md for all.
const (
	ReasonInvalidArgument     = "INVALID_ARGUMENT"
	ReasonNotFound            = "NOT_FOUND"
	ReasonUnauthenticated     = "UNAUTHENTICATED"
	ReasonTokenExpired        = "TOKEN_EXPIRED"
	ReasonTokenInvalid        = "TOKEN_INVALID"
	ReasonTokenRevoked        = "TOKEN_REVOKED"
	ReasonWrongCredentials    = "WRONG_CREDENTIALS"
	ReasonPermissionDenied    = "PERMISSION_DENIED"
	ReasonEtagMismatch        = "ETAG_MISMATCH"
	ReasonConflict            = "CONFLICT"
	ReasonRateLimited         = "RATE_LIMITED"
	ReasonUnavailable         = "UNAVAILABLE"
	ReasonVehicleNotAvailable = "VEHICLE_NOT_AVAILABLE"
	ReasonOrderNotReady       = "ORDER_NOT_READY"
	ReasonOrderAlreadyPaid    = "ORDER_ALREADY_PAID"
	ReasonPromoCodeUsedUp     = "PROMO_CODE_USED_UP"
	ReasonPromoCodeExpired    = "PROMO_CODE_EXPIRED"
)

// A subset of the field violations' own reasons (BadRequest.FieldViolation.Reason).
const (
	ViolationRequired      = "REQUIRED"
	ViolationInvalid       = "INVALID"
	ViolationInvalidFormat = "INVALID_FORMAT"
	ViolationTooLong       = "TOO_LONG"
	ViolationOutOfRange    = "OUT_OF_RANGE"
)

// Error is a call the API refused or could not answer, as its gRPC status describes it.
type Error struct {
	Code    codes.Code
	Message string
	// Reason is the ErrorInfo's reason ("" when the status has none, e.g. a transport failure
	// that never reached the API); Metadata what it is about (empty when absent).
	Reason   string
	Metadata map[string]string
	// Violations names each field at fault (mostly with INVALID_ARGUMENT).
	Violations []Violation
	status     *status.Status
}

// Violation is one field's problem, as google.rpc.BadRequest names it.
type Violation struct {
	Field       string
	Description string
	Reason      string // "" when the API gave none
}

// From reads err's gRPC status: nil for a nil error and for one that carries no gRPC status
// (a local mistake before any call); an error wrapping a status error (fmt.Errorf's %w) gives
// that status.
func From(err error) *Error {
	if err == nil {
		return nil
	}
	var own *Error
	if errors.As(err, &own) {
		return own
	}
	// The status itself, not status.FromError's, which gives a wrapped one the wrapping's text
	// as its message.
	var carrier interface{ GRPCStatus() *status.Status }
	if !errors.As(err, &carrier) || carrier.GRPCStatus() == nil {
		return nil
	}
	found := carrier.GRPCStatus()
	refusal := &Error{Code: found.Code(), Message: found.Message(), Metadata: map[string]string{}, status: found}
	for _, detail := range found.Details() {
		switch detail := detail.(type) {
		case *errdetails.ErrorInfo:
			if detail.GetDomain() == Domain && refusal.Reason == "" {
				refusal.Reason = detail.GetReason()
				for key, value := range detail.GetMetadata() {
					refusal.Metadata[key] = value
				}
			}
		case *errdetails.BadRequest:
			for _, violation := range detail.GetFieldViolations() {
				refusal.Violations = append(refusal.Violations, Violation{
					Field: violation.GetField(), Description: violation.GetDescription(), Reason: violation.GetReason(),
				})
			}
		}
	}
	return refusal
}

// HasReason says whether err is a refusal with that reason: `if apierror.HasReason(err,
// apierror.ReasonTokenExpired) { refresh, call again }`.
func HasReason(err error, reason string) bool {
	return ReasonOf(err) == reason && reason != ""
}

// ReasonOf is From(err).Reason, "" for a nil or non-gRPC error (and one without a reason), for a
// switch over the reasons.
func ReasonOf(err error) string {
	if refusal := From(err); refusal != nil {
		return refusal.Reason
	}
	return ""
}

// Error reads like "FAILED_PRECONDITION: the car is sold [VEHICLE_NOT_AVAILABLE]; field: why".
func (e *Error) Error() string {
	text := fmt.Sprintf("%s: %s", codeName(e.Code), e.Message)
	if e.Reason != "" {
		text += " [" + e.Reason + "]"
	}
	parts := []string{text}
	for _, violation := range e.Violations {
		parts = append(parts, violation.Field+": "+violation.Description)
	}
	return strings.Join(parts, "; ")
}

// GRPCStatus lets status.FromError and status.Code read an *Error as the status it came from.
func (e *Error) GRPCStatus() *status.Status {
	if e.status == nil {
		return status.New(e.Code, e.Message)
	}
	return e.status
}

// codeName is the code as ERRORS.md writes it (NOT_FOUND), where codes.Code's String gives
// NotFound.
func codeName(code codes.Code) string {
	var out strings.Builder
	previous := 'A'
	for _, r := range code.String() {
		if r >= 'A' && r <= 'Z' && previous >= 'a' && previous <= 'z' {
			out.WriteByte('_')
		}
		out.WriteRune(r)
		previous = r
	}
	return strings.ToUpper(out.String())
}
