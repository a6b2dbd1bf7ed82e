"""guidekb's command-line interface, above both `engine` and `visualize`."""
