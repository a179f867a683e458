"""Evidence library: proofs (files, links, paper), their versions, review and criterion links."""
