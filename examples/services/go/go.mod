// Documentation example (not built by the test suite): `go mod tidy && go run . --folder /home/me/notes`.
module example.com/twinflow-start-ingest

go 1.24

require go.temporal.io/sdk v1.51.0
