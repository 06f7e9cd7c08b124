//! Test bed: network namespaces, veth pairs and real BGP daemons (BIRD, GoBGP, FRR).
