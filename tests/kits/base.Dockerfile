# The stand-in for Docker Hub's python:3.11-slim (out of reach here), on a Debian bookworm root
# made by scripts/rootfs.sh and imported as veba-rootfs:bookworm (tests/kits/kit_docker.py).
# What the kits' Dockerfiles rely on, as the real image has it: `python` and `pip` on PATH, pip
# allowed to install into the system interpreter, useradd, C.UTF-8. The machine's own CA bundle
# replaces the root's, so pip in the image reaches the package index exactly as the machine does.
FROM veba-rootfs:bookworm
COPY ca-certificates.crt /etc/ssl/certs/ca-certificates.crt
RUN rm -f /usr/lib/python3*/EXTERNALLY-MANAGED \
 && ln -sf /usr/bin/python3 /usr/local/bin/python \
 && python -m pip --version
ENV PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin LANG=C.UTF-8
CMD ["python3"]
