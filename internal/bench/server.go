package bench

import (
	"context"
	"log/slog"

	"google.golang.org/grpc"
	"google.golang.org/grpc/credentials/insecure"

	"github.com/liaison-registry/liaison/internal/api"
	"github.com/liaison-registry/liaison/internal/app"
)

// startInProcess starts liaisond in this process on a fresh embedded
// PostgreSQL and connects a gRPC client to it, as a practice's client
// would; stop ends both.
func startInProcess(ctx context.Context) (srv *app.Running, conn *grpc.ClientConn, stop func(), err error) {
	srv, err = app.Start(ctx, app.Options{GRPCAddr: "127.0.0.1:0", HTTPAddr: "127.0.0.1:0", Logger: slog.New(slog.DiscardHandler)})
	if err != nil {
		return nil, nil, nil, err
	}
	conn, err = grpc.NewClient(srv.GRPCAddr, grpc.WithTransportCredentials(insecure.NewCredentials()),
		grpc.WithDefaultCallOptions(grpc.MaxCallSendMsgSize(api.MaxMessageBytes)))
	if err != nil {
		srv.Stop() //nolint:errcheck
		return nil, nil, nil, err
	}
	return srv, conn, func() { conn.Close(); srv.Stop() }, nil //nolint:errcheck
}
