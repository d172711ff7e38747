"""The ODR green channel's enrolment at a node: applications, the signed roster, supervision."""
