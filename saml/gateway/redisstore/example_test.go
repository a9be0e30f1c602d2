package redisstore_test

import (
	"context"
	"log"
	"net/http"

	"github.com/samlgate/samlgate/saml"
	"github.com/samlgate/samlgate/saml/gateway"
	"github.com/samlgate/samlgate/saml/gateway/redisstore"
)

// Every replica of a gateway runs the same configuration: one Redis store
// is the replay cache of each connection and the gateway's session and
// login-state store.
func Example() {
	store, err := redisstore.New("redis://127.0.0.1:6379/0", redisstore.Options{
		OnError: func(op string, err error) { /* count it: storeErrors.WithLabelValues(op).Inc() */ },
	})
	if err != nil {
		log.Fatal(err)
	}
	defer store.Close()
	if err := store.Ping(context.Background()); err != nil {
		log.Printf("Redis does not answer yet: logins get 503 until it does: %v", err)
	}

	conn, err := saml.NewConnection(saml.ConnectionConfig{
		Name:           "acme",
		SPEntityID:     "https://app.example.com/saml",
		ACSURL:         "https://app.example.com/login/callback?connection=acme",
		IdPMetadataXML: []byte("..."), // from JumpCloud
		ReplayCache:    store,         // each assertion accepted once, on any replica
	})
	if err != nil {
		log.Fatal(err)
	}
	gw, err := gateway.New(gateway.Config{
		Connections:     []*saml.Connection{conn},
		SessionKeys:     [][]byte{ /* the same 32-byte keys on every replica */ },
		SessionStore:    store, // sessions shared, revocable (RevokeUser)
		LoginStateStore: store, // pending logins taken once
	})
	if err != nil {
		log.Fatal(err)
	}
	mux := http.NewServeMux()
	gw.Mount(mux)
	log.Fatal(http.ListenAndServe(":8080", mux))
}
