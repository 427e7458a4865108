package apierror

import (
	"errors"
	"fmt"
	"testing"

	"google.golang.org/genproto/googleapis/rpc/errdetails"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

func refusal(t *testing.T) error {
	t.Helper()
	found, err := status.New(codes.InvalidArgument, "vehicle_id: must look like vehicles/{uuid}").WithDetails(
		&errdetails.ErrorInfo{Domain: "elsewhere", Reason: "NOT_OURS"},
		&errdetails.ErrorInfo{Domain: Domain, Reason: ReasonInvalidArgument, Metadata: map[string]string{"k": "v"}},
		&errdetails.BadRequest{FieldViolations: []*errdetails.BadRequest_FieldViolation{
			{Field: "vehicle_id", Description: "must look like vehicles/{uuid}", Reason: ViolationInvalidFormat},
		}},
	)
	if err != nil {
		t.Fatal(err)
	}
	return found.Err()
}

func TestFromReadsTheDetailsOfTheAPIsDomain(t *testing.T) {
	got := From(fmt.Errorf("creating the order: %w", refusal(t)))
	if got == nil || got.Code != codes.InvalidArgument || got.Reason != ReasonInvalidArgument || got.Metadata["k"] != "v" {
		t.Fatalf("From = %#v", got)
	}
	want := Violation{"vehicle_id", "must look like vehicles/{uuid}", ViolationInvalidFormat}
	if len(got.Violations) != 1 || got.Violations[0] != want {
		t.Fatalf("Violations = %#v", got.Violations)
	}
	if text := got.Error(); text != "INVALID_ARGUMENT: vehicle_id: must look like vehicles/{uuid} [INVALID_ARGUMENT]; vehicle_id: must look like vehicles/{uuid}" {
		t.Fatalf("Error() = %q", text)
	}
	if status.Code(got) != codes.InvalidArgument || !HasReason(refusal(t), ReasonInvalidArgument) {
		t.Fatal("the status is not kept")
	}
}

func TestFromIsNilWithoutAStatus(t *testing.T) {
	if From(nil) != nil || From(errors.New("plain")) != nil || ReasonOf(errors.New("plain")) != "" {
		t.Fatal("From made an Error of a nil or plain error")
	}
	if got := From(status.Error(codes.Unavailable, "no route")); got.Reason != "" || got.Error() != "UNAVAILABLE: no route" {
		t.Fatalf("From = %#v", got)
	}
}
