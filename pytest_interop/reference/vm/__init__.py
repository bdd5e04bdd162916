"""Servers of the reference cloud as real virtual machines (QEMU with KVM).

``image`` builds the Debian guest image once per recipe and caches it; ``seed`` writes each
server's NoCloud seed; ``qemu`` starts and drives one guest over QMP; ``supervisor`` makes sure
no guest outlives its cloud; ``machine`` puts them behind the emulated machines' seam;
``backend`` chooses between the two.
"""
