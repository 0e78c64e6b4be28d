#!/bin/sh
# The registration entries of the example, run against example.org's SPIRE server, for instance:
#   kubectl -n spire exec -i spire-server-0 -c spire-server -- sh < entries.sh
set -eu
SPIRE_SERVER="${SPIRE_SERVER:-/opt/spire/bin/spire-server}"

# Every agent of the `prod` cluster, as one parent for the workload entries.
"$SPIRE_SERVER" entry create -node \
  -spiffeID spiffe://example.org/ns/spire/sa/spire-agent \
  -selector k8s_psat:cluster:prod \
  -selector k8s_psat:agent_ns:spire \
  -selector k8s_psat:agent_sa:spire-agent

# The orders service: pods of service account `orders` in namespace `shop`. SVIDs live an hour; the
# agent renews them half-way, and workloadApiSource rotates them into the gRPC server.
"$SPIRE_SERVER" entry create \
  -parentID spiffe://example.org/ns/spire/sa/spire-agent \
  -spiffeID spiffe://example.org/ns/shop/sa/orders \
  -selector k8s:ns:shop \
  -selector k8s:sa:orders \
  -dns orders.shop.svc.cluster.local \
  -x509SVIDTTL 3600

# The frontend, the one caller orders allows. With federation, add `-federatesWith spiffe://partner.org`
# to the entries of the workloads that call or are called across the trust domain boundary.
"$SPIRE_SERVER" entry create \
  -parentID spiffe://example.org/ns/spire/sa/spire-agent \
  -spiffeID spiffe://example.org/ns/shop/sa/frontend \
  -selector k8s:ns:shop \
  -selector k8s:sa:frontend \
  -x509SVIDTTL 3600
