"""jacobian, hessian, vjp, jvp, hvp (to be written)."""
