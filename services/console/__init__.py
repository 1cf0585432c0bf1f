"""The web console: the people of a call use it in a browser. It holds no rule of the call: it
calls the four services' HTTP APIs with the person's token and shows their answers."""
