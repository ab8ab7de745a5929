"""Layer 8, lessons: the demo apps and helpers particular lessons use (myapp, the Python demo app, tagging, quiz,
lesson 06's distribution helpers)."""
