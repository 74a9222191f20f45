// Starts twinflow's `ingest` workflow from a Go service, by type name and one JSON input.
//
// twinflow's workflows are TypeScript, but a workflow type is just a name and its input is one JSON object, so the
// Go SDK starts one like any other (docs/workflows.md lists every type and its input schema). Nothing of twinflow
// is imported: only go.temporal.io/sdk.
//
//	go mod tidy
//	go run . --collection notes --folder /home/me/notes
//	go run . --input ingest.json          # the whole input, as in docs/workflows.md
//
// Connection settings come from twinflow's environment variables (TEMPORAL_ADDRESS, TEMPORAL_NAMESPACE,
// TEMPORAL_API_KEY, TWINFLOW_TASK_QUEUE) or the flags. The run's ids go to stderr, its result as JSON to stdout.
package main

import (
	"context"
	"crypto/rand"
	"crypto/tls"
	"encoding/hex"
	"encoding/json"
	"flag"
	"fmt"
	"log"
	"os"

	"go.temporal.io/sdk/client"
)

func envOr(name, fallback string) string {
	if v := os.Getenv(name); v != "" {
		return v
	}
	return fallback
}

func main() {
	address := flag.String("address", envOr("TEMPORAL_ADDRESS", "127.0.0.1:7233"), "Temporal frontend host:port")
	namespace := flag.String("namespace", envOr("TEMPORAL_NAMESPACE", "default"), "Temporal namespace")
	taskQueue := flag.String("task-queue", envOr("TWINFLOW_TASK_QUEUE", "twinflow"), "twinflow's CPU task queue")
	workflowID := flag.String("workflow-id", "", "default: ingest-<collection>-<random>")
	inputFile := flag.String("input", "", "a JSON file with the whole ingest input")
	collection := flag.String("collection", "notes", "target collection")
	folder := flag.String("folder", "", "a folder on the worker's machine")
	noWait := flag.Bool("no-wait", false, "start and print the ids, do not wait for the result")
	flag.Parse()

	// The input stays plain JSON (a map): the workflow validates it and names any bad field.
	var input map[string]any
	switch {
	case *inputFile != "":
		data, err := os.ReadFile(*inputFile)
		if err != nil {
			log.Fatalf("reading %s: %v", *inputFile, err)
		}
		if err := json.Unmarshal(data, &input); err != nil {
			log.Fatalf("%s is not a JSON object: %v", *inputFile, err)
		}
	case *folder != "":
		input = map[string]any{
			"collection": *collection,
			"sources":    []map[string]any{{"type": "folder", "id": "notes", "path": *folder}},
		}
	default:
		log.Fatal("give --input or --folder")
	}

	options := client.Options{HostPort: *address, Namespace: *namespace}
	if key := os.Getenv("TEMPORAL_API_KEY"); key != "" {
		// Temporal Cloud with an API key.
		options.Credentials = client.NewAPIKeyStaticCredentials(key)
		options.ConnectionOptions = client.ConnectionOptions{TLS: &tls.Config{}}
	}
	c, err := client.Dial(options)
	if err != nil {
		log.Fatalf("connecting to %s: %v", *address, err)
	}
	defer c.Close()

	id := *workflowID
	if id == "" {
		suffix := make([]byte, 4)
		_, _ = rand.Read(suffix)
		id = fmt.Sprintf("ingest-%v-%s", input["collection"], hex.EncodeToString(suffix))
	}
	ctx := context.Background()
	// By name ("ingest"), one argument: the default converter sends it as json/plain, which the TypeScript workers read.
	run, err := c.ExecuteWorkflow(ctx, client.StartWorkflowOptions{ID: id, TaskQueue: *taskQueue}, "ingest", input)
	if err != nil {
		log.Fatalf("starting ingest: %v", err)
	}
	ids, _ := json.Marshal(map[string]string{"workflowId": run.GetID(), "runId": run.GetRunID()})
	fmt.Fprintln(os.Stderr, string(ids))
	if *noWait {
		return
	}
	var result map[string]any
	if err := run.Get(ctx, &result); err != nil {
		log.Fatalf("ingest failed: %v", err)
	}
	out, _ := json.MarshalIndent(result, "", "  ")
	fmt.Println(string(out))
}
