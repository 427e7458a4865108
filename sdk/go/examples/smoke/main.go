// Command smoke walks a partner's first purchase through the edge over native gRPC: it signs a
// new customer up and in, lists the catalogue and creates a draft order for the vehicle its
// argument names. It prints {"user", "models", "order"} as JSON (the protos' field names) on
// stdout; a refused call exits 1 with {"error": {"code", "name", "message", "reason",
// "violations"}} on stderr, read by apierror from the call's status.
//
// The edge is 127.0.0.1:$AUTOSALON_EDGE_PORT (8080 by default).
package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"os"
	"time"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/metadata"
	"google.golang.org/protobuf/encoding/protojson"
	"google.golang.org/protobuf/proto"

	"github.com/autosalon/autosalon-go/apierror"
	authv1 "github.com/autosalon/autosalon-go/autosalon/auth/v1"
	catalogv1 "github.com/autosalon/autosalon-go/autosalon/catalog/v1"
	salesv1 "github.com/autosalon/autosalon-go/autosalon/sales/v1"
)

const password = "Correct-Horse-42"

func main() {
	if len(os.Args) != 2 {
		fmt.Fprintln(os.Stderr, "usage: smoke <vehicle id>")
		os.Exit(2)
	}
	port := os.Getenv("AUTOSALON_EDGE_PORT")
	if port == "" {
		port = "8080"
	}
	conn, err := grpc.NewClient("127.0.0.1:"+port, grpc.WithTransportCredentials(insecure.NewCredentials()))
	if err != nil {
		refused(err)
	}
	defer conn.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()

	auth := authv1.NewAuthServiceClient(conn)
	email := "go.smoke." + randomHex() + "@example.ru"
	user, err := auth.Register(ctx, &authv1.RegisterRequest{
		Email: email, Password: password, ConfirmPassword: password, FullName: "Ivan Petrov",
	})
	if err != nil {
		refused(err)
	}
	tokens, err := auth.Login(ctx, &authv1.LoginRequest{Email: email, Password: password})
	if err != nil {
		refused(err)
	}
	signedIn := metadata.AppendToOutgoingContext(ctx, "authorization", "Bearer "+tokens.AccessToken)

	models, err := catalogv1.NewCatalogServiceClient(conn).ListModels(ctx, &catalogv1.ListModelsRequest{PageSize: 5})
	if err != nil {
		refused(err)
	}
	order, err := salesv1.NewSalesServiceClient(conn).CreateOrder(
		signedIn, &salesv1.CreateOrderRequest{VehicleId: os.Args[1]})
	if err != nil {
		refused(err)
	}
	printJSON(os.Stdout, map[string]json.RawMessage{
		"user": asJSON(user), "models": asJSON(models), "order": asJSON(order),
	})
}

func asJSON(message proto.Message) json.RawMessage {
	encoded, err := protojson.MarshalOptions{UseProtoNames: true}.Marshal(message)
	if err != nil {
		panic(err)
	}
	return encoded
}

func printJSON(file *os.File, value any) {
	if err := json.NewEncoder(file).Encode(value); err != nil {
		panic(err)
	}
}

// refused prints what the call's gRPC status says (its code, and the reason and field
// violations of its details) and exits 1.
func refused(err error) {
	refusal := apierror.From(err)
	if refusal == nil { // not a gRPC status: a failure before any call
		printJSON(os.Stderr, map[string]any{"error": map[string]any{"message": err.Error()}})
		os.Exit(1)
	}
	violations := []map[string]string{}
	for _, violation := range refusal.Violations {
		violations = append(violations, map[string]string{
			"field": violation.Field, "description": violation.Description, "reason": violation.Reason,
		})
	}
	printJSON(os.Stderr, map[string]any{"error": map[string]any{
		"code": refusal.Code, "name": refusal.Code.String(), "message": refusal.Message,
		"reason": refusal.Reason, "violations": violations,
	}})
	os.Exit(1)
}

func randomHex() string {
	bytes := make([]byte, 6)
	if _, err := rand.Read(bytes); err != nil {
		panic(err)
	}
	return hex.EncodeToString(bytes)
}
