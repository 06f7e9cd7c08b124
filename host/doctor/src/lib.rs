//! herald doctor: checks a node the way an operator would (annotations, provider, routes, sessions).
