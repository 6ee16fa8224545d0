package api

import (
	"testing"

	"github.com/liaison-registry/liaison/internal/evaluation"
)

// Every method the server registers has an access rule, and every rule is
// for a method the server registers: a new RPC is refused until it has one.
func TestEveryRegisteredMethodHasAnAccessRule(t *testing.T) {
	s := New(Deps{Evaluations: &evaluation.Service{}})
	served := map[string]bool{}
	for svc, info := range s.grpc.GetServiceInfo() {
		for _, m := range info.Methods {
			name := "/" + svc + "/" + m.Name
			if open(name) {
				continue
			}
			served[name] = true
			if _, ok := policy[name]; !ok {
				t.Errorf("%s is served but has no access rule", name)
			}
		}
	}
	for name := range policy {
		if !served[name] {
			t.Errorf("access rule for %s, which is not served", name)
		}
	}
	if len(served) < 19 { // the six services' RPCs when this test was written
		t.Errorf("only %d methods served: %v", len(served), served)
	}
}
